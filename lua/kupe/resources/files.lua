--- Knowledge-base files: upload, list, read, update, delete.
--
-- The API wraps every answer of this group in `{message, data}` and nests
-- the list one level deeper (`data.files`). These methods return what is
-- inside: the upload row, the list of rows, the file with its signed URLs.
-- The whole answer stays reachable as `resp.data` (the second result).
--
-- Uploads are multipart/form-data; the libcurl transport streams the file
-- from disk (libcurl's MIME API), never reading it whole into Lua. The
-- nginx transport reads it into memory to build the body (README, Inside
-- nginx: differences).
-- @module kupe.resources.files

local resource = require "kupe.resource"
local errors = require "kupe.errors"
local json = require "kupe.json"
local A = require "kupe.argcheck"

local UPLOAD = "/api/v1/files/upload"
local FORMATS = "/api/v1/files/supported-formats"
local MINE = "/api/v1/files/user/me"
local ONE = "/api/v1/files/{file_id}"

local G = resource.group("files", {
  { "upload", "POST", UPLOAD, custom = true, doc = "upload a file (multipart, streamed from disk)" },
  { "supported_formats", "GET", FORMATS, custom = true, doc = "MIME types and extensions accepted" },
  { "list", "GET", MINE, custom = true, doc = "the caller's files" },
  { "get", "GET", ONE, custom = true, doc = "one file, with signed view/download URLs" },
  { "update", "PUT", ONE, custom = true, doc = "change a file's metadata" },
  { "delete", "DELETE", ONE, custom = true, doc = "delete from storage, vector DB and mappings" },
})

--- Content types by file extension, for uploads that do not name one.
G.TYPES = {
  pdf = "application/pdf", txt = "text/plain", md = "text/markdown", csv = "text/csv",
  json = "application/json", html = "text/html", htm = "text/html",
  doc = "application/msword",
  docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  mp3 = "audio/mpeg", wav = "audio/wav", m4a = "audio/mp4", ogg = "audio/ogg",
}

local UPLOAD_FIELDS = { path = true, agent_id = true, user_id = true, filename = true,
  type = true, timeout = true, on_progress = true }

--- Uploads a file into the knowledge base (chunked into the vector DB by
-- the server). The file is streamed from disk as the multipart field
-- `file`; `agent_id` tags its chunks for that agent's retrieval (and maps
-- the file to the agent).
-- @tparam table opts `path` (required), `agent_id` (UUID), `filename`
--   (default: the path's base name), `type` (default: from the extension),
--   `user_id` (legacy override; omit), `timeout` (seconds, default 300),
--   `on_progress(received, total)`
-- @return the upload row (`id`, `original_filename`, `file_size`, ...), resp
--   | nil, err. A missing or unreadable file is `err.kind == "io"` and
--   nothing is sent.
-- @raise when path is missing or a field has the wrong type
function G:upload(opts)
  A.opts(opts, "upload", 1)
  A.known(opts, UPLOAD_FIELDS, "upload", 1)
  local path = A.string(opts.path, "path", "upload", 1, { nonempty = true })
  A.uuid(opts.agent_id, "agent_id", "upload", 1, true)
  A.uuid(opts.user_id, "user_id", "upload", 1, true)
  local filename = A.string(opts.filename, "filename", "upload", 1,
    { optional = true, nonempty = true }) or path:match("([^/]+)$")
  local ctype = A.string(opts.type, "type", "upload", 1, { optional = true, nonempty = true })
  A.number(opts.timeout, "timeout", "upload", 1, 0, nil, true)
  if opts.on_progress ~= nil and type(opts.on_progress) ~= "function" then
    A.fail("upload", 1, "on_progress must be a function")
  end
  if not ctype then
    local ext = filename:match("%.([%w]+)$")
    ctype = ext and G.TYPES[ext:lower()] or "application/octet-stream"
  end

  -- Fail before sending when the file cannot be read (a directory opens
  -- but does not read).
  local f, oerr = io.open(path, "rb")
  local rerr
  if f then
    local ok, e = f:read(1)
    if ok == nil and e then rerr = e end
    f:close()
  end
  if not f or rerr then
    return nil, errors.new { kind = "io", method = "POST", path = UPLOAD, sent = false,
      message = ("cannot read '%s'"):format(path), cause = oerr or rerr }
  end

  local form = { { name = "file", path = path, filename = filename, type = ctype } }
  if opts.agent_id then form[#form + 1] = { name = "agent_id", value = opts.agent_id } end
  if opts.user_id then form[#form + 1] = { name = "user_id", value = opts.user_id } end
  local data, resp = self._client:request("POST", UPLOAD, {
    form = form, timeout = opts.timeout or 300, on_progress = opts.on_progress,
  })
  return resource.unwrap("POST", UPLOAD, data, resp)
end

--- The upload formats the server accepts.
-- @return `{mime_types = {...}, extensions = {...}}` (the answer's `data`), resp | nil, err
function G:supported_formats()
  local data, resp = self._client:request("GET", FORMATS)
  return resource.unwrap("GET", FORMATS, data, resp)
end

--- The caller's files. The API nests them as `{message, data = {files}}`;
-- this returns the list itself (an empty list is an empty table).
-- @return array of file rows, resp | nil, err
function G:list()
  local data, resp = self._client:request("GET", MINE)
  return resource.unwrap("GET", MINE, data, resp, function(inner)
    if type(inner) ~= "table" then return nil end
    if inner.files ~= nil then return type(inner.files) == "table" and inner.files or nil end
    if inner[1] ~= nil or getmetatable(inner) == json.array_mt then return inner end
    return nil
  end)
end

--- One file's metadata with signed `view_url` / `download_url` (when the
-- server can sign them); `nil, err` with `err.status == 404` when unknown.
-- @tparam string file_id
-- @return file row, resp | nil, err
function G:get(file_id)
  A.id(file_id, "file_id", "get", 1)
  local path = resource.path(ONE, "get", file_id)
  local data, resp = self._client:request("GET", path)
  return resource.unwrap("GET", path, data, resp)
end

--- Changes a file's metadata (the body is free-form: `original_filename`,
-- `description`, ... as the server allows).
-- @tparam string file_id
-- @tparam table fields
-- @return the updated row, resp | nil, err (404 when unknown)
function G:update(file_id, fields)
  A.id(file_id, "file_id", "update", 1)
  if type(fields) ~= "table" then
    A.fail("update", 2, "table of fields expected, got " .. type(fields))
  end
  local path = resource.path(ONE, "update", file_id)
  local data, resp = self._client:request("PUT", path, { json = fields })
  return resource.unwrap("PUT", path, data, resp)
end

--- Deletes a file from storage, the vector DB and every agent mapping.
-- @tparam string file_id
-- @return the answer's data (or true), resp | nil, err (404 when unknown)
function G:delete(file_id)
  A.id(file_id, "file_id", "delete", 1)
  local path = resource.path(ONE, "delete", file_id)
  local data, resp = self._client:request("DELETE", path)
  return resource.unwrap("DELETE", path, data, resp)
end

return G
