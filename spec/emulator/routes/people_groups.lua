-- People groups (kupe-api.md 7.4; the "People Groups" tag of the Campaigns
-- & Contacts spec): contact lists with their own columns and rows, filled
-- by hand or from an uploaded CSV.
--
-- Groups, columns and rows live in the route-owned store "people_groups":
--   groups   id -> group            order   list of group ids, oldest first
--   columns  group id -> list       rows    group id -> list (oldest first)
-- A row's `properties` are keyed by column display name ("Phone", "Name").
-- `store.contacts(group_id)` (re-installed after every reset) gives the
-- campaigns routes each row's phone number and the rest of its values.
--
-- Uploads are multipart/form-data with one part named `file`, at most
-- 10 MB (else 413). CSV is parsed for real: quotes, doubled quotes, line
-- breaks inside quotes, CRLF or LF, a UTF-8 BOM, `;` as the delimiter when
-- the header line has no `,`. Non-UTF-8 text is read as Latin-1 by
-- `upload` and refused by the legacy `upload-csv`. XLSX workbooks are read
-- too (the first sheet); legacy binary .xls files are answered with 400:
-- this emulator does not read them.
-- Headers map to columns by name (case and punctuation ignored); missing
-- columns are created by `upload`; the phone column is the one typed
-- "phone", else the first header named like a phone number. Rows whose
-- phone cell is empty are skipped.

local json = require "emu.json"
local state = require "emu.state"
local v = require "emu.validate"
local params = require "emu.params"
local paging = require "emu.paging"

local MAX_UPLOAD = 10 * 1024 * 1024
local SAMPLE_ROWS = 5

local GROUP_ORDER = json.order {
  "id", "user_id", "name", "icon_emoji", "description", "created_at", "updated_at",
}
local COLUMN_ORDER = json.order { "id", "group_id", "display_name", "column_type", "order_by" }
local ROW_ORDER = json.order { "id", "group_id", "properties", "created_at", "updated_at" }
local PREVIEW_ORDER = json.order {
  "detected_headers", "column_mapping", "phone_column", "sample_rows", "total_rows",
  "rows_missing_phone", "warnings",
}
local RESULT_ORDER = json.order {
  "message", "inserted_count", "skipped_count", "columns_created", "column_mapping", "warnings",
}

local store = state.store("people_groups")

------------------------------------------------------------------------
-- Helpers

-- "Phone Number", "phone_number" and "PHONE-NUMBER" are one name.
local function norm(name)
  return (name:lower():gsub("[^%w]+", "_"):gsub("^_+", ""):gsub("_+$", ""))
end

local PHONE_NAMES = {}
for _, n in ipairs { "phone", "phone_number", "phonenumber", "phone_no", "mobile",
  "mobile_number", "mobile_no", "mobilenumber", "contact_number", "to_phonenumber",
  "to_phone_number", "telephone", "tel", "cell", "cell_phone", "cellphone", "whatsapp",
  "whatsapp_number", "number", "msisdn" } do
  PHONE_NAMES[n] = true
end

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

local function find_group(ctx)
  local id = params.uuid(ctx, "group_id", params.detail)
  local g = store.groups[id]
  if not g then v.fail(404, "People group not found") end
  return g
end

local function find_in(list, id, what)
  for i, x in ipairs(list) do
    if x.id == id then return x, i end
  end
  v.fail(404, what .. " not found")
end

local function copy_object(t)
  local out = {}
  for k, x in pairs(t) do out[k] = x end
  return out
end

------------------------------------------------------------------------
-- Groups

local function list_groups()
  local out = json.array()
  for i = #store.order, 1, -1 do        -- newest first
    out[#out + 1] = store.groups[store.order[i]]
  end
  return 200, { groups = out }
end

local GROUP_FIELDS = { { "name", "str" }, { "icon_emoji", "str" }, { "description", "str" } }

local function nullable(value)
  if value == nil then return json.null end
  return value
end

local function check_name(name)
  if not name:match("%S") then v.fail(400, "Group name must not be empty") end
end

local function create_group(ctx)
  local body = v.body(ctx, { { "name", "str", required = true }, GROUP_FIELDS[2],
    GROUP_FIELDS[3] })
  check_name(body.name)
  local now = state.now_iso()
  local g = setmetatable({
    id = state.new_uuid(), user_id = state.user.user_id, name = body.name,
    icon_emoji = nullable(body.icon_emoji), description = nullable(body.description),
    created_at = now, updated_at = now,
  }, GROUP_ORDER)
  store.groups[g.id] = g
  store.order[#store.order + 1] = g.id
  store.columns[g.id], store.rows[g.id] = json.array(), json.array()
  return 200, { group = g }
end

local function update_group(ctx)
  local g = find_group(ctx)
  local body = v.body(ctx, GROUP_FIELDS)
  if body.name == json.null then v.fail(400, "Group name must not be empty") end
  if body.name ~= nil then check_name(body.name) end
  for _, f in ipairs(GROUP_FIELDS) do
    local x = body[f[1]]
    if x ~= nil then g[f[1]] = x end
  end
  g.updated_at = state.now_iso()
  return 200, { group = g }
end

local function delete_group(ctx)
  local g = find_group(ctx)
  store.groups[g.id], store.columns[g.id], store.rows[g.id] = nil, nil, nil
  for i, id in ipairs(store.order) do
    if id == g.id then table.remove(store.order, i) break end
  end
  return 200, { ok = "true" }
end

------------------------------------------------------------------------
-- Columns

local function sorted_columns(g)
  local cols = store.columns[g.id]
  table.sort(cols, function(a, b)
    if a.order_by ~= b.order_by then return a.order_by < b.order_by end
    return a.seq < b.seq
  end)
  return cols
end

local function column_named(g, name)
  local key = norm(name)
  for _, c in ipairs(store.columns[g.id]) do
    if norm(c.display_name) == key then return c end
  end
end

local function new_column(g, name, column_type, order_by)
  local cols = store.columns[g.id]
  if order_by == nil or order_by == json.null then
    order_by = 0
    for _, c in ipairs(cols) do order_by = math.max(order_by, c.order_by + 1) end
  end
  store.column_seq = store.column_seq + 1
  local c = setmetatable({ id = state.new_uuid(), group_id = g.id, display_name = name,
    column_type = column_type, order_by = order_by, seq = store.column_seq }, COLUMN_ORDER)
  cols[#cols + 1] = c
  return c
end

-- What goes on the wire (without the insertion counter).
local function column_out(c)
  return setmetatable({ id = c.id, group_id = c.group_id, display_name = c.display_name,
    column_type = c.column_type, order_by = c.order_by }, COLUMN_ORDER)
end

local function list_columns(ctx)
  local g = find_group(ctx)
  local out = json.array()
  for i, c in ipairs(sorted_columns(g)) do out[i] = column_out(c) end
  return 200, { columns = out }
end

local COLUMN_FIELDS = { { "display_name", "str" }, { "column_type", "str" }, { "order_by", "int" } }

local function check_column(g, body, except)
  if body.display_name ~= nil then
    if body.display_name == json.null or not body.display_name:match("%S") then
      v.fail(400, "Column display_name must not be empty")
    end
    local other = column_named(g, body.display_name)
    if other and other ~= except then
      v.fail(400, ("A column named '%s' already exists in this group"):format(other.display_name))
    end
  end
  if body.column_type ~= nil and (body.column_type == json.null or body.column_type == "") then
    v.fail(400, "Column column_type must not be empty")
  end
end

local function create_column(ctx)
  local g = find_group(ctx)
  local body = v.body(ctx, { { "display_name", "str", required = true },
    { "column_type", "str", required = true }, COLUMN_FIELDS[3] })
  check_column(g, body)
  local c = new_column(g, trim(body.display_name), body.column_type, body.order_by)
  return 200, { column = column_out(c) }
end

local function update_column(ctx)
  local g = find_group(ctx)
  local c = find_in(store.columns[g.id], params.uuid(ctx, "column_id", params.detail), "Column")
  local body = v.body(ctx, COLUMN_FIELDS)
  check_column(g, body, c)
  if body.display_name ~= nil then c.display_name = trim(body.display_name) end
  if body.column_type ~= nil then c.column_type = body.column_type end
  if body.order_by ~= nil and body.order_by ~= json.null then c.order_by = body.order_by end
  return 200, { column = column_out(c) }
end

local function delete_column(ctx)
  local g = find_group(ctx)
  local _, i = find_in(store.columns[g.id], params.uuid(ctx, "column_id", params.detail), "Column")
  table.remove(store.columns[g.id], i)
  return 200, { ok = "true" }
end

------------------------------------------------------------------------
-- Rows

local function new_row(g, properties)
  local now = state.now_iso()
  local r = setmetatable({ id = state.new_uuid(), group_id = g.id, properties = properties,
    created_at = now, updated_at = now }, ROW_ORDER)
  local rows = store.rows[g.id]
  rows[#rows + 1] = r
  return r
end

local function list_rows(ctx)
  local g = find_group(ctx)
  local q = v.query(ctx, { { "limit", "int", ge = 1, le = 1000, default = 100 },
    { "offset", "int", ge = 0, default = 0 } })
  return 200, { rows = paging.slice(store.rows[g.id], q.offset + 1, q.limit) }
end

local function create_row(ctx)
  local g = find_group(ctx)
  local body = v.body(ctx, { { "properties", "object", required = true } })
  return 200, { row = new_row(g, body.properties) }
end

local function update_row(ctx)
  local g = find_group(ctx)
  local r = find_in(store.rows[g.id], params.uuid(ctx, "row_id", params.detail), "Row")
  local body = v.body(ctx, { { "properties", "object" } })
  if body.properties == json.null then v.fail(400, "properties must be an object") end
  if body.properties ~= nil then r.properties = body.properties end -- replaced whole
  r.updated_at = state.now_iso()
  return 200, { row = r }
end

local function delete_row(ctx)
  local g = find_group(ctx)
  local _, i = find_in(store.rows[g.id], params.uuid(ctx, "row_id", params.detail), "Row")
  table.remove(store.rows[g.id], i)
  return 200, { ok = "true" }
end

------------------------------------------------------------------------
-- Multipart: the part named "file"

local function missing_file()
  v.fail_422 { v.problem("missing", { "body", "file" }, "Field required", nil) }
end

-- Returns content, filename (or nil), part content type (or nil).
local function uploaded_file(ctx)
  local is_form, boundary = params.form_boundary(ctx)
  if not is_form or not boundary then missing_file() end
  local body = ctx.body or ""
  local delim = "--" .. boundary
  local pos = body:find(delim, 1, true)
  while pos do
    local start = pos + #delim
    if body:sub(start, start + 1) == "--" then break end -- closing delimiter
    local head_end = body:find("\r\n\r\n", start, true)
    if not head_end then break end
    local head = body:sub(start, head_end - 1)
    local stop = body:find("\r\n" .. delim, head_end + 4, true)
    if not stop then v.fail(400, "Malformed multipart body: a part is not terminated") end
    local name = head:match('[;%s]name="([^"]*)"')
    if name == "file" then
      return body:sub(head_end + 4, stop - 1), head:match('filename="([^"]*)"'),
        head:match("[Cc][Oo][Nn][Tt][Ee][Nn][Tt]%-[Tt][Yy][Pp][Ee]:%s*([^\r\n]+)")
    end
    pos = stop + 2
  end
  missing_file()
end

------------------------------------------------------------------------
-- XLSX: a ZIP of XML parts. Entries are stored or deflated (zlib's raw
-- inflate through the LuaJIT FFI); the first sheet of the workbook is read
-- with its shared strings. Cells become text: numbers that are integers
-- (phone numbers saved as numbers, even as 9.1984E+11) print as digits.

local ffi = require "ffi"

local zlib = pcall(function()
  ffi.cdef [[
  typedef struct emu_pg_z_stream {
    const unsigned char *next_in; unsigned int avail_in; unsigned long total_in;
    unsigned char *next_out; unsigned int avail_out; unsigned long total_out;
    const char *msg; void *state; void *zalloc; void *zfree; void *opaque;
    int data_type; unsigned long adler; unsigned long reserved;
  } emu_pg_z_stream;
  int inflateInit2_(emu_pg_z_stream *strm, int windowBits, const char *version, int stream_size);
  int inflate(emu_pg_z_stream *strm, int flush);
  int inflateEnd(emu_pg_z_stream *strm);
  const char *zlibVersion(void);
  ]]
end) and (pcall(function() return ffi.C.inflateInit2_ end) and ffi.C or ffi.load("libz.so.1"))

local MAX_PART = 64 * 1024 * 1024     -- an inflated part, at most (zip bombs)

local function u16(s, i) return s:byte(i) + s:byte(i + 1) * 256 end
local function u32(s, i) return u16(s, i) + u16(s, i + 2) * 65536 end

local function bad_workbook(why)
  v.fail(400, "Could not read the Excel file: " .. why)
end

local function inflate(data, size)
  if not zlib then bad_workbook("deflated parts are not supported here") end
  local strm = ffi.new("emu_pg_z_stream")
  local out = ffi.new("unsigned char[?]", size + 1)
  if zlib.inflateInit2_(strm, -15, zlib.zlibVersion(), ffi.sizeof(strm)) ~= 0 then
    bad_workbook("inflate failed")
  end
  strm.next_in, strm.avail_in = data, #data
  strm.next_out, strm.avail_out = out, size + 1
  local rc = zlib.inflate(strm, 4)      -- Z_FINISH
  local n = tonumber(strm.total_out)
  zlib.inflateEnd(strm)
  if rc ~= 1 or n ~= size then bad_workbook("a part is damaged") end
  return ffi.string(out, n)
end

-- name -> function() returning the entry's bytes.
local function zip_entries(z)
  local eocd
  for i = #z - 21, math.max(1, #z - 65557), -1 do
    if z:sub(i, i + 3) == "PK\5\6" then eocd = i break end
  end
  if not eocd then bad_workbook("it is not a ZIP archive") end
  local count, at = u16(z, eocd + 10), u32(z, eocd + 16) + 1
  local entries = {}
  for _ = 1, count do
    if z:sub(at, at + 3) ~= "PK\1\2" then bad_workbook("the ZIP directory is damaged") end
    local method, csize, usize = u16(z, at + 10), u32(z, at + 20), u32(z, at + 24)
    local nlen, xlen, clen = u16(z, at + 28), u16(z, at + 30), u16(z, at + 32)
    local offset = u32(z, at + 42) + 1
    local name = z:sub(at + 46, at + 45 + nlen)
    entries[name] = function()
      if z:sub(offset, offset + 3) ~= "PK\3\4" then bad_workbook("an entry is damaged") end
      local start = offset + 30 + u16(z, offset + 26) + u16(z, offset + 28)
      local data = z:sub(start, start + csize - 1)
      if usize > MAX_PART then bad_workbook("a part is too large") end
      if method == 0 then return data end
      if method == 8 then return inflate(data, usize) end
      bad_workbook("compression method " .. method .. " is not supported")
    end
    at = at + 46 + nlen + xlen + clen
  end
  return entries
end

local ENTITIES = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'" }

local function utf8_char(c)
  if c < 0x80 then return string.char(c) end
  if c < 0x800 then return string.char(0xC0 + math.floor(c / 64), 0x80 + c % 64) end
  if c < 0x10000 then
    return string.char(0xE0 + math.floor(c / 4096), 0x80 + math.floor(c / 64) % 64, 0x80 + c % 64)
  end
  return string.char(0xF0 + math.floor(c / 262144), 0x80 + math.floor(c / 4096) % 64,
    0x80 + math.floor(c / 64) % 64, 0x80 + c % 64)
end

local function unxml(s)
  return (s:gsub("&(#?x?)(%w+);", function(kind, name)
    if kind == "" then return ENTITIES[name] end
    local n = tonumber(name, kind == "#x" and 16 or 10)
    return n and utf8_char(n) or ""
  end))
end

-- The text of every <t> inside `xml` (rich text runs joined).
local function texts(xml)
  local parts = {}
  for t in xml:gmatch("<t[^>]*>(.-)</t>") do parts[#parts + 1] = unxml(t) end
  for _ in xml:gmatch("<t[^>]*/>") do parts[#parts + 1] = "" end
  return table.concat(parts)
end

local function column_index(ref)
  local n = 0
  for ch in ref:gmatch("%u") do n = n * 26 + ch:byte() - 64 end
  return n
end

local function cell_text(raw)
  local n = tonumber(raw)
  if n and n == math.floor(n) and math.abs(n) < 2 ^ 53 then return ("%d"):format(n) end
  return raw
end

-- The first sheet as records (lists of strings), like parse_csv's.
local function parse_xlsx(content)
  local entries = zip_entries(content)
  local function part(name)
    local get = entries[name]
    return get and get()
  end
  local sheet_path = "xl/worksheets/sheet1.xml"
  local workbook, rels = part("xl/workbook.xml"), part("xl/_rels/workbook.xml.rels")
  if not workbook then bad_workbook("it has no workbook (is it an .xlsx file?)") end
  local rid = workbook:match("<sheet%s[^>]-r:id=\"([^\"]+)\"")
  if rid and rels then
    for rel in rels:gmatch("<Relationship%s[^>]+>") do
      if rel:match('Id="([^"]+)"') == rid then
        local target = rel:match('Target="([^"]+)"')
        sheet_path = target:sub(1, 1) == "/" and target:sub(2) or ("xl/" .. target)
      end
    end
  end
  local sheet = part(sheet_path)
  if not sheet then bad_workbook("its first sheet is missing") end
  local shared = {}
  local sst = part("xl/sharedStrings.xml")
  if sst then
    for si in sst:gmatch("<si>(.-)</si>") do shared[#shared + 1] = texts(si) end
  end
  local records = {}
  sheet = sheet:gsub("<row[^>]-/>", "")
  for attrs, body in sheet:gmatch("<row([^>]*)>(.-)</row>") do
    local rec, last = {}, 0
    for cattrs, cbody in body:gsub("<c([^>]-)/>", "<c%1></c>"):gmatch("<c([^>]*)>(.-)</c>") do
      local col = column_index(cattrs:match('r="(%u+)') or "")
      if col == 0 then col = last + 1 end
      last = col
      local kind, value = cattrs:match('t="(%w+)"'), cbody:match("<v>(.-)</v>")
      local text
      if kind == "s" then
        text = shared[(tonumber(value) or -1) + 1] or ""
      elseif kind == "inlineStr" then
        text = texts(cbody)
      elseif kind == "str" or kind == "e" then
        text = unxml(value or "")
      elseif kind == "b" then
        text = value == "1" and "TRUE" or "FALSE"
      else
        text = value and cell_text(value) or ""
      end
      for k = #rec + 1, col - 1 do rec[k] = "" end
      rec[col] = text
    end
    local r = tonumber(attrs:match('r="(%d+)"'))
    if r then
      for k = #records + 1, r - 1 do records[k] = { "" } end
    end
    records[#records + 1] = rec
  end
  return records
end

------------------------------------------------------------------------
-- CSV

-- True when s is valid UTF-8 (no overlongs or surrogates checked: enough
-- to tell UTF-8 from Latin-1 text).
local function is_utf8(s)
  if not s:find("[\128-\255]") then return true end
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    local len = c < 0x80 and 1 or (c >= 0xC2 and c < 0xE0) and 2 or (c >= 0xE0 and c < 0xF0) and 3
      or (c >= 0xF0 and c < 0xF5) and 4 or nil
    if not len then return false end
    for k = i + 1, i + len - 1 do
      local b = s:byte(k)
      if not b or b < 0x80 or b > 0xBF then return false end
    end
    i = i + len
  end
  return true
end

local function latin1_to_utf8(s)
  return (s:gsub("[\128-\255]", function(ch)
    local c = ch:byte()
    return string.char(0xC0 + math.floor(c / 64), 0x80 + c % 64)
  end))
end

-- Records of `text` (lists of strings). Raises 400 on an unterminated quote.
local function parse_csv(text, delim)
  local stop_set = "[" .. delim .. "\r\n]"
  local records, rec = {}, {}
  local pos, n, line = 1, #text, 1
  if n == 0 then return records end
  while true do
    local field
    if text:byte(pos) == 34 then                 -- a quoted field
      local parts, i = {}, pos + 1
      while true do
        local q = text:find('"', i, true)
        if not q then
          v.fail(400, ("Malformed CSV: a quoted field that starts on line %d is never closed")
            :format(line))
        end
        parts[#parts + 1] = text:sub(i, q - 1)
        if text:byte(q + 1) == 34 then
          parts[#parts + 1] = '"'
          i = q + 2
        else
          i = q + 1
          break
        end
      end
      field = table.concat(parts)
      local _, breaks = field:gsub("\n", "")
      line = line + breaks
      local s = text:find(stop_set, i) or n + 1
      field = field .. text:sub(i, s - 1)       -- lenient: text after the quote
      pos = s
    else
      local s = text:find(stop_set, pos) or n + 1
      field = text:sub(pos, s - 1)
      pos = s
    end
    rec[#rec + 1] = field
    local sep = text:byte(pos)
    if sep == delim:byte() then
      pos = pos + 1
      if pos > n then rec[#rec + 1] = "" end
    else
      records[#records + 1] = rec
      rec = {}
      line = line + 1
      if sep == 13 and text:byte(pos + 1) == 10 then pos = pos + 2 else pos = pos + 1 end
    end
    if pos > n then break end
  end
  if #rec > 0 then records[#records + 1] = rec end
  return records
end

local function blank(rec)
  for _, f in ipairs(rec) do
    if f:match("%S") then return false end
  end
  return true
end

-- The file as {headers = {...}, rows = {{header = value}}, warnings = {...}}.
local function read_table(content, filename, legacy)
  local name = (filename or ""):lower()
  local ext = name:match("%.(%w+)$")
  if #content == 0 then v.fail(400, "The uploaded file is empty") end
  if legacy and ext ~= "csv" then
    v.fail(400, "Only .csv files are accepted here: use POST /api/v1/people-groups/{group_id}/upload"
      .. " for Excel files")
  end
  local warnings = json.array()
  local records
  if ext == "xls" or content:sub(1, 4) == "\208\207\17\224" then
    v.fail(400, "Legacy .xls workbooks are not supported by this emulator: save the sheet as .xlsx or CSV")
  elseif ext == "xlsx" or content:sub(1, 4) == "PK\3\4" then
    records = parse_xlsx(content)
  elseif ext ~= "csv" then
    v.fail(400, "Unsupported file type: upload a .csv, .xlsx or .xls file")
  else
    if content:sub(1, 3) == "\239\187\191" then content = content:sub(4) end
    if not is_utf8(content) then
      if legacy then v.fail(400, "The CSV file must be UTF-8 encoded") end
      content = latin1_to_utf8(content)
      warnings[#warnings + 1] = "The file is not UTF-8: it was read as Latin-1"
    end
    local first_line = content:match("^[^\r\n]*")
    local delim = (not first_line:find(",", 1, true) and first_line:find(";", 1, true)) and ";" or ","
    records = parse_csv(content, delim)
  end
  local k = 1
  while records[k] and blank(records[k]) do k = k + 1 end
  if not records[k] then v.fail(400, "The file has no header row") end

  local headers, index, seen = json.array(), {}, {}
  for i, raw in ipairs(records[k]) do
    local h = trim(raw)
    if h == "" then
      h = "Column " .. i
      warnings[#warnings + 1] = ("Column %d has no header: it was named '%s'"):format(i, h)
    end
    if seen[norm(h)] then
      warnings[#warnings + 1] = ("Duplicate header '%s' (column %d) was ignored"):format(h, i)
    else
      seen[norm(h)] = true
      headers[#headers + 1] = h
      index[#headers] = i
    end
  end
  local rows, extra = {}, 0
  for r = k + 1, #records do
    local rec = records[r]
    if not blank(rec) then
      if #rec > #records[k] then extra = extra + 1 end
      local row = {}
      for j, h in ipairs(headers) do row[h] = trim(rec[index[j]] or "") end
      rows[#rows + 1] = row
    end
  end
  if extra > 0 then
    warnings[#warnings + 1] = ("%d row(s) have more cells than the header: the extra cells were"
      .. " ignored"):format(extra)
  end
  return { headers = headers, rows = rows, warnings = warnings }
end

-- Header -> column display name (existing columns matched by name), the
-- phone header, and the columns that would be created ({header, type}).
local function plan(g, headers)
  local mapping, to_create, phone = setmetatable({}, json.order(headers)), {}, nil
  for _, h in ipairs(headers) do
    local c = column_named(g, h)
    if c then
      mapping[h] = c.display_name
      if c.column_type == "phone" and not phone then phone = h end
    else
      mapping[h] = h
      to_create[#to_create + 1] = h
    end
  end
  if not phone then
    for _, h in ipairs(headers) do
      if PHONE_NAMES[norm(h)] then phone = h break end
    end
  end
  return mapping, to_create, phone
end

local function column_type_for(name, phone)
  if name == phone then return "phone" end
  if norm(name):find("email", 1, true) then return "email" end
  return "text"
end

local function preview(ctx)
  local g = find_group(ctx)
  local content, filename = uploaded_file(ctx)
  if #content > MAX_UPLOAD then v.fail(413, "File too large: the limit is 10 MB") end
  local t = read_table(content, filename, false)
  local mapping, _, phone = plan(g, t.headers)
  local samples, missing = json.array(), 0
  local row_order = json.order(t.headers)
  for i, row in ipairs(t.rows) do
    if i <= SAMPLE_ROWS then samples[i] = setmetatable(row, row_order) end
    if not phone or row[phone] == "" then missing = missing + 1 end
  end
  if not phone then
    t.warnings[#t.warnings + 1] = "No phone number column was found: name one column 'Phone'"
  end
  return 200, setmetatable({
    detected_headers = t.headers, column_mapping = mapping, phone_column = nullable(phone),
    sample_rows = samples, total_rows = #t.rows, rows_missing_phone = missing,
    warnings = t.warnings,
  }, PREVIEW_ORDER)
end

local function import(ctx, legacy)
  local g = find_group(ctx)
  local content, filename = uploaded_file(ctx)
  if #content > MAX_UPLOAD then v.fail(413, "File too large: the limit is 10 MB") end
  local t = read_table(content, filename, legacy)
  local mapping, to_create, phone = plan(g, t.headers)
  for _, h in ipairs(to_create) do new_column(g, h, column_type_for(h, phone)) end
  local inserted, skipped = 0, 0
  for _, row in ipairs(t.rows) do
    if phone and row[phone] ~= "" then
      local props = {}
      for _, h in ipairs(t.headers) do props[mapping[h]] = row[h] end
      new_row(g, props)
      inserted = inserted + 1
    else
      skipped = skipped + 1
    end
  end
  if not phone then
    t.warnings[#t.warnings + 1] = "No phone number column was found: every row was skipped"
  elseif skipped > 0 then
    t.warnings[#t.warnings + 1] = ("%d row(s) without a phone number were skipped"):format(skipped)
  end
  g.updated_at = state.now_iso()
  return 200, setmetatable({
    message = ("Imported %d row(s) into '%s'"):format(inserted, g.name),
    inserted_count = inserted, skipped_count = skipped, columns_created = #to_create,
    column_mapping = mapping, warnings = t.warnings,
  }, RESULT_ORDER)
end

------------------------------------------------------------------------
-- For the campaigns routes

-- The group with `id` and its rows as {phone = string or nil, values =
-- the other properties}; nil when there is no such group.
local function contacts(id)
  local g = store.groups[id]
  if not g then return nil end
  local phone_names = {}
  for _, c in ipairs(store.columns[id]) do
    if c.column_type == "phone" then phone_names[#phone_names + 1] = c.display_name end
  end
  local out = {}
  for i, r in ipairs(store.rows[id]) do
    local props, key = r.properties, nil
    for _, name in ipairs(phone_names) do
      local x = props[name]
      if type(x) == "string" and x:match("%S") or type(x) == "number" then key = name break end
    end
    if not key then
      local names = {}
      for k in pairs(props) do names[#names + 1] = k end
      table.sort(names)
      for _, k in ipairs(names) do
        local x = props[k]
        if PHONE_NAMES[norm(k)] and (type(x) == "string" and x:match("%S") or type(x) == "number") then
          key = k
          break
        end
      end
    end
    local values = copy_object(props)
    local phone
    if key then
      phone = props[key]
      if type(phone) == "number" then phone = ("%d"):format(phone) end
      values[key] = nil
    end
    out[i] = { phone = phone, values = values, row_id = r.id }
  end
  return g, out
end

state.on_reset(function()
  store.groups, store.order, store.columns, store.rows = {}, {}, {}, {}
  store.column_seq = 0
  store.contacts = contacts
end)

return function(router)
  router:add("GET", "/api/v1/people-groups", list_groups)
  router:add("POST", "/api/v1/people-groups", create_group)
  router:add("PATCH", "/api/v1/people-groups/{group_id}", update_group)
  router:add("DELETE", "/api/v1/people-groups/{group_id}", delete_group)
  router:add("GET", "/api/v1/people-groups/{group_id}/columns", list_columns)
  router:add("POST", "/api/v1/people-groups/{group_id}/columns", create_column)
  router:add("PATCH", "/api/v1/people-groups/{group_id}/columns/{column_id}", update_column)
  router:add("DELETE", "/api/v1/people-groups/{group_id}/columns/{column_id}", delete_column)
  router:add("GET", "/api/v1/people-groups/{group_id}/rows", list_rows)
  router:add("POST", "/api/v1/people-groups/{group_id}/rows", create_row)
  router:add("PATCH", "/api/v1/people-groups/{group_id}/rows/{row_id}", update_row)
  router:add("DELETE", "/api/v1/people-groups/{group_id}/rows/{row_id}", delete_row)
  router:add("POST", "/api/v1/people-groups/{group_id}/upload/preview", preview)
  router:add("POST", "/api/v1/people-groups/{group_id}/upload", function(ctx)
    return import(ctx, false)
  end)
  router:add("POST", "/api/v1/people-groups/{group_id}/upload-csv", function(ctx)
    return import(ctx, true)
  end)
end
