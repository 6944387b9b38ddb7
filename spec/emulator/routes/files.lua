-- Knowledge-base files (kupe-api.md 8.1): upload, supported formats, list,
-- get, update, delete. Every answer is {message, data}; the list nests
-- the rows under data.files.
--
-- The upload body is parsed as real multipart/form-data: the part named
-- `file` (with a filename) is the upload, `agent_id` and `user_id` are
-- text parts. Text content (no NUL byte) is cut into chunks of at most
-- about 500 characters along paragraphs and sentences; the chunks are what
-- POST /api/v1/search/* ranks (routes/knowledge.lua). An upload with
-- agent_id also maps the file to that agent.
--
-- Shared store "files" (also used by routes/knowledge.lua):
--   files    list of records, oldest first: {row = <public fields>, content =, chunks =}
--   by_id    file id -> record
--   mappings list of agent-file mapping rows, oldest first

local json = require "emu.json"
local state = require "emu.state"
local v = require "emu.validate"
local params = require "emu.params"

local db = state.store("files")

local ROW_ORDER = json.order {
  "id", "user_id", "agent_id", "original_filename", "storage_file_id", "file_size",
  "mime_type", "extension", "status", "chunk_count", "description", "created_at", "updated_at",
  "view_url", "download_url",
}
local ENVELOPE = json.order { "message", "data" }
local MAPPING_ORDER = json.order {
  "id", "agent_id", "upload_file_id", "user_id", "original_filename", "created_at",
}

local FORMATS = {
  { "pdf", "application/pdf" }, { "txt", "text/plain" }, { "md", "text/markdown" },
  { "csv", "text/csv" }, { "json", "application/json" }, { "html", "text/html" },
  { "htm", "text/html" }, { "doc", "application/msword" },
  { "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
  { "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
  { "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
  { "mp3", "audio/mpeg" }, { "wav", "audio/wav" }, { "m4a", "audio/mp4" },
  { "ogg", "audio/ogg" },
}
local TYPE_OF = {}
for _, f in ipairs(FORMATS) do TYPE_OF[f[1]] = f[2] end

local MAX_CHUNK = 500

local function init()
  db.files = db.files or {}
  db.by_id = db.by_id or {}
  db.mappings = db.mappings or {}
end
state.on_reset(init)

local function envelope(message, data)
  return setmetatable({ message = message, data = data }, ENVELOPE)
end

------------------------------------------------------------------------
-- multipart/form-data

local function unquote_name(s)
  if not s then return nil end
  return (s:gsub("%%22", '"'):gsub("%%0[Dd]", "\r"):gsub("%%0[Aa]", "\n"))
end

-- The parts of a multipart body: {name=, filename=, type=, content=}.
local function parse_multipart(ctx)
  local is_form, boundary = params.form_boundary(ctx)
  if not is_form then return nil end
  local body = ctx.body or ""
  local bad = "There was an error parsing the body"
  if not boundary then v.fail(400, bad) end
  local delim = "--" .. boundary
  local pos = body:find(delim, 1, true)
  if not pos then v.fail(400, bad) end
  pos = pos + #delim
  local parts = {}
  while true do
    local after = body:sub(pos, pos + 1)
    if after == "--" then break end
    if after ~= "\r\n" then v.fail(400, bad) end
    local head_end = body:find("\r\n\r\n", pos + 2, true)
    if not head_end then v.fail(400, bad) end
    local head = body:sub(pos + 2, head_end - 1)
    local next_delim = body:find("\r\n" .. delim, head_end + 4, true)
    if not next_delim then v.fail(400, bad) end
    local part = { content = body:sub(head_end + 4, next_delim - 1) }
    for line in (head .. "\r\n"):gmatch("(.-)\r\n") do
      local name, value = line:match("^([^:]+):%s*(.-)%s*$")
      name = name and name:lower()
      if name == "content-disposition" then
        part.name = unquote_name(value:match('[;%s]name="([^"]*)"'))
        part.filename = unquote_name(value:match('filename="([^"]*)"'))
      elseif name == "content-type" then
        part.type = value
      end
    end
    parts[#parts + 1] = part
    pos = next_delim + 2 + #delim
  end
  return parts
end

------------------------------------------------------------------------
-- Chunking: paragraphs, then sentences, at most about MAX_CHUNK characters.

local function chunk_text(text)
  local chunks = {}
  local function add(s)
    s = s:gsub("%s+", " "):match("^%s*(.-)%s*$")
    if s ~= "" then chunks[#chunks + 1] = s end
  end
  text = text:gsub("\r\n", "\n")
  for para in (text .. "\n\n"):gmatch("(.-)\n%s*\n") do
    para = para:gsub("%s+", " ")
    if #para <= MAX_CHUNK then
      add(para)
    else
      local acc = ""
      for sentence in para:gmatch("[^%.!?]+[%.!?]*") do
        sentence = sentence:match("^%s*(.-)%s*$")
        if #acc > 0 and #acc + #sentence + 1 > MAX_CHUNK then
          add(acc)
          acc = ""
        end
        if #sentence > MAX_CHUNK then     -- a run-on "sentence": cut it
          for i = 1, #sentence, MAX_CHUNK do add(sentence:sub(i, i + MAX_CHUNK - 1)) end
        else
          acc = acc == "" and sentence or (acc .. " " .. sentence)
        end
      end
      add(acc)
    end
  end
  return chunks
end

local function is_text(content)
  return not content:sub(1, 65536):find("%z")
end

------------------------------------------------------------------------
-- Rows

local function public_row(rec)
  local out = {}
  for k, x in pairs(rec.row) do out[k] = x end
  return setmetatable(out, ROW_ORDER)
end

local function signed_urls(ctx, row)
  local token = ngx.md5(row.storage_file_id .. ":" .. state.settings.seed)
  local name = ngx.escape_uri(row.original_filename)
  local base = ("%s/storage/v1/object/sign/knowledge-base/%s/%s?token=%s&expires_in=3600")
    :format(ctx.base_url, row.storage_file_id, name, token)
  return base, base .. "&download=" .. name
end

local function find(ctx)
  local id = params.uuid(ctx, "file_id")
  local rec = db.by_id[id]
  if not rec then v.fail(404, "File not found") end
  return rec, id
end

local function add_mapping(agent_id, rec)
  for _, m in ipairs(db.mappings) do
    if m.agent_id == agent_id and m.upload_file_id == rec.row.id then return m, false end
  end
  local m = setmetatable({
    id = state.new_uuid(), agent_id = agent_id, upload_file_id = rec.row.id,
    user_id = state.user.user_id, original_filename = rec.row.original_filename,
    created_at = state.now_iso(),
  }, MAPPING_ORDER)
  db.mappings[#db.mappings + 1] = m
  return m, true
end

return function(router)
  router:add("POST", "/api/v1/files/upload", function(ctx)
    local parts = parse_multipart(ctx)
    local file, fields = nil, {}
    for _, p in ipairs(parts or {}) do
      if p.name == "file" and p.filename and not file then
        file = p
      elseif p.name and not p.filename then
        fields[p.name] = p.content
      end
    end
    local problems = {}
    if not file then
      problems[#problems + 1] = v.problem("missing", { "body", "file" }, "Field required", nil)
    end
    for _, name in ipairs { "agent_id", "user_id" } do
      if fields[name] and fields[name] ~= "" and not v.is_uuid(fields[name]) then
        problems[#problems + 1] = v.problem("uuid_parsing", { "body", name },
          "Input should be a valid UUID, invalid character or length", fields[name])
      end
    end
    if #problems > 0 then v.fail_422(problems) end

    local user_id = fields.user_id
    if user_id and user_id ~= "" and user_id:lower() ~= state.user.user_id then
      v.fail(403, "You can only upload files for your own account")
    end
    local agent_id = fields.agent_id ~= "" and fields.agent_id and fields.agent_id:lower() or nil
    if agent_id and not state.agents_by_id[agent_id] then v.fail(404, "Agent not found") end
    local filename = file.filename:match("([^/\\]+)$") or ""
    local ext = (filename:match("%.([%w]+)$") or ""):lower()
    if filename == "" or not TYPE_OF[ext] then
      v.fail(400, ("Unsupported file format '%s': see GET /api/v1/files/supported-formats")
        :format(ext ~= "" and ("." .. ext) or filename))
    end
    if #file.content == 0 then v.fail(400, "The uploaded file is empty") end

    local id, now = state.new_uuid(), state.now_iso()
    local chunks = is_text(file.content) and chunk_text(file.content) or {}
    local rec = {
      content = file.content, chunks = chunks,
      row = {
        id = id, user_id = state.user.user_id, agent_id = agent_id or json.null,
        original_filename = filename, storage_file_id = state.new_uuid(),
        file_size = #file.content, mime_type = file.type or TYPE_OF[ext], extension = ext,
        status = "processed", chunk_count = #chunks, description = json.null,
        created_at = now, updated_at = now,
      },
    }
    db.files[#db.files + 1] = rec
    db.by_id[id] = rec
    if agent_id then add_mapping(agent_id, rec) end
    return 200, envelope("File uploaded and processed successfully", public_row(rec))
  end)

  router:add("GET", "/api/v1/files/supported-formats", function()
    local types, exts, seen = json.array(), json.array(), {}
    for _, f in ipairs(FORMATS) do
      exts[#exts + 1] = "." .. f[1]
      if not seen[f[2]] then
        seen[f[2]] = true
        types[#types + 1] = f[2]
      end
    end
    return 200, envelope("Supported upload formats",
      { mime_types = types, extensions = exts, max_file_size_mb = 64 })
  end)

  router:add("GET", "/api/v1/files/user/me", function()
    local files = json.array()
    for i = #db.files, 1, -1 do files[#files + 1] = public_row(db.files[i]) end
    return 200, envelope("Files retrieved successfully", { files = files, total = #files })
  end)

  router:add("GET", "/api/v1/files/{file_id}", function(ctx)
    local rec = find(ctx)
    local row = public_row(rec)
    row.view_url, row.download_url = signed_urls(ctx, rec.row)
    return 200, envelope("File retrieved successfully", row)
  end)

  router:add("PUT", "/api/v1/files/{file_id}", function(ctx)
    local rec = find(ctx)
    local body = v.body(ctx, {
      { "original_filename", "str" }, { "description", "str" }, { "metadata", "object" },
    })
    if body.original_filename ~= nil then
      if body.original_filename == json.null or body.original_filename:match("^%s*$") then
        v.fail(400, "original_filename must not be empty")
      end
      rec.row.original_filename = body.original_filename
    end
    if body.description ~= nil then rec.row.description = body.description end
    if body.metadata ~= nil then rec.row.metadata = body.metadata end
    rec.row.updated_at = state.now_iso()
    return 200, envelope("File updated successfully", public_row(rec))
  end)

  router:add("DELETE", "/api/v1/files/{file_id}", function(ctx)
    local rec, id = find(ctx)
    db.by_id[id] = nil
    for i, r in ipairs(db.files) do
      if r == rec then table.remove(db.files, i) break end
    end
    for i = #db.mappings, 1, -1 do
      if db.mappings[i].upload_file_id == id then table.remove(db.mappings, i) end
    end
    return 200, envelope("File deleted successfully", { id = id, deleted = true })
  end)
end
