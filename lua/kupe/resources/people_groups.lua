--- People groups: the contact lists that campaigns call.
--
-- A group has columns (its schema: `display_name`, `column_type`) and rows
-- (`properties`, one value per column). Fill it by hand (`create_row`) or
-- from a CSV or Excel file (`upload`); then `client.campaigns:add_group`
-- copies its rows that have a phone number into a campaign.
--
-- What the API makes awkward, and what these methods do about it:
--
-- * Rows come in limit/offset pages without a total: `row_pages` and
--   `row_items` walk them all, lazily, with the shared walkers.
-- * Uploads are multipart/form-data with one part named `file`, CSV, XLSX
--   or XLS, at most 10 MB: `upload`, `preview_upload` and `upload_csv`
--   take a path (streamed from disk, never read into Lua memory) or a
--   string, name the part, set its content type from the extension, and
--   refuse a wrong extension (raise) or an oversized file (`nil, err`)
--   before anything is sent.
-- * There is no route for one group: `list` returns them all.
-- * Every answer is a keyed wrapper (`{groups}`, `{group}`, `{columns}`,
--   `{column}`, `{rows}`, `{row}`); deletes answer `{ok = "true"}` (a
--   string). Answers are returned as decoded, so the API's documentation
--   applies as is.
-- @module kupe.resources.people_groups

local resource = require "kupe.resource"
local errors = require "kupe.errors"
local json = require "kupe.json"
local A = require "kupe.argcheck"

local BASE = "/api/v1/people-groups"
local GROUP = BASE .. "/{group_id}"
local COLUMNS = GROUP .. "/columns"
local COLUMN = COLUMNS .. "/{column_id}"
local ROWS = GROUP .. "/rows"
local ROW = ROWS .. "/{row_id}"

--- The API's limit for uploaded files (10 MB).
local MAX_UPLOAD = 10 * 1024 * 1024

local G = resource.group("people_groups", {
  { "list", "GET", BASE, custom = true, doc = "every people group" },
  { "create", "POST", BASE, custom = true, doc = "create a group" },
  { "update", "PATCH", GROUP, custom = true, doc = "rename or describe a group" },
  { "delete", "DELETE", GROUP, custom = true, doc = "delete a group with its rows" },
  { "columns", "GET", COLUMNS, custom = true, doc = "a group's columns" },
  { "create_column", "POST", COLUMNS, custom = true, doc = "add a column" },
  { "update_column", "PATCH", COLUMN, custom = true, doc = "change a column" },
  { "delete_column", "DELETE", COLUMN, custom = true, doc = "delete a column" },
  { "rows", "GET", ROWS, custom = true, also = { "row_pages", "row_items" },
    doc = "one limit/offset page of rows" },
  { "create_row", "POST", ROWS, custom = true, doc = "add a contact" },
  { "update_row", "PATCH", ROW, custom = true, doc = "replace a contact's properties" },
  { "delete_row", "DELETE", ROW, custom = true, doc = "delete a contact" },
  { "preview_upload", "POST", GROUP .. "/upload/preview", custom = true,
    doc = "parse a CSV/XLSX/XLS file without writing anything" },
  { "upload", "POST", GROUP .. "/upload", custom = true,
    doc = "import rows from a CSV/XLSX/XLS file" },
  { "upload_csv", "POST", GROUP .. "/upload-csv", custom = true,
    doc = "import rows from a UTF-8 CSV file (deprecated)" },
})

G.MAX_UPLOAD = MAX_UPLOAD

-- Argument checks (kupe.argcheck): caller mistakes raise, pointing at the
-- caller.

-- field kinds: "text" (non-empty string), "string?" (string or kupe.null),
-- "int?" (integer or kupe.null), "object" (a table that is not an array).
local KIND_TEXT = {
  text = "a non-empty string", ["string?"] = "a string or kupe.null",
  ["int?"] = "an integer or kupe.null", object = "a table of properties (not an array)",
}

local function check_fields(body, schema, required, n, fname, depth)
  for _, name in ipairs(required or {}) do
    if body[name] == nil then A.fail(fname, n, name .. " is required", depth + 1) end
  end
  for name, kind in pairs(schema) do
    local v = body[name]
    if v ~= nil then
      local ok
      if kind == "text" then
        ok = type(v) == "string" and v:find("%S") ~= nil
      elseif kind == "string?" then
        ok = type(v) == "string" or v == json.null
      elseif kind == "int?" then
        ok = A.is_int(v) or v == json.null
      elseif kind == "object" then
        ok = A.is_object(v)
      end
      if not ok then
        A.fail(fname, n, ("%s must be %s, got %s"):format(name, KIND_TEXT[kind], A.got(v)), depth + 1)
      end
    end
  end
end

local unpack = table.unpack or unpack

-- ids are checked by the caller, so resource.path only escapes them.
local function request(self, method, template, fname, ids, opts)
  return self._client:request(method, resource.path(template, fname, unpack(ids)), opts)
end

-- Groups

local GROUP_FIELDS = { name = "text", icon_emoji = "string?", description = "string?" }

--- Lists every people group of the account, newest first.
-- There is no route for a single group: pick it from this list.
-- @return `{groups = {{id, user_id, name, icon_emoji, description,
--   created_at, updated_at}, ...}}`, resp | nil, err
function G:list()
  return self._client:request("GET", BASE)
end

--- Creates a people group. Answers 200 (not 201) with `{group = {...}}`.
-- @tparam table fields `name` (required, not blank), `icon_emoji`,
--   `description` (strings, or kupe.null)
-- @return `{group}`, resp | nil, err
-- @raise when name is missing or blank, or a field has the wrong type
function G:create(fields)
  A.table(fields, nil, "create", 1)
  check_fields(fields, GROUP_FIELDS, { "name" }, 1, "create", 0)
  return self._client:request("POST", BASE, { json = fields })
end

--- Changes a group's name, emoji or description (only the fields given).
-- @tparam string group_id
-- @tparam table fields as for create, none required
-- @return `{group}`, resp | nil, err (404 for an unknown group)
function G:update(group_id, fields)
  A.id(group_id, "group_id", "update", 1)
  A.table(fields, nil, "update", 2)
  check_fields(fields, GROUP_FIELDS, nil, 2, "update", 0)
  return request(self, "PATCH", GROUP, "update", { group_id }, { json = fields })
end

--- Deletes a group with its columns and rows. Members already copied
-- into campaigns stay there.
-- @tparam string group_id
-- @return `{ok = "true"}`, resp | nil, err (404 for an unknown group)
function G:delete(group_id)
  A.id(group_id, "group_id", "delete", 1)
  return request(self, "DELETE", GROUP, "delete", { group_id })
end

-- Columns

local COLUMN_FIELDS = { display_name = "text", column_type = "text", order_by = "int?" }

--- A group's columns, in `order_by` order.
-- @tparam string group_id
-- @return `{columns = {{id, group_id, display_name, column_type, order_by}, ...}}`,
--   resp | nil, err
function G:columns(group_id)
  A.id(group_id, "group_id", "columns", 1)
  return request(self, "GET", COLUMNS, "columns", { group_id })
end

--- Adds a column. `column_type` is free text for the API; uploads create
-- "phone", "email" and "text" columns, and a "phone" column is where
-- campaigns look for the number to call.
-- @tparam string group_id
-- @tparam table fields `display_name` and `column_type` (required),
--   `order_by` (integer)
-- @return `{column}`, resp | nil, err
-- @raise when display_name or column_type is missing or blank
function G:create_column(group_id, fields)
  A.id(group_id, "group_id", "create_column", 1)
  A.table(fields, nil, "create_column", 2)
  check_fields(fields, COLUMN_FIELDS, { "display_name", "column_type" }, 2, "create_column", 0)
  return request(self, "POST", COLUMNS, "create_column", { group_id }, { json = fields })
end

--- Changes a column (only the fields given).
-- @tparam string group_id
-- @tparam string column_id
-- @tparam table fields display_name, column_type, order_by (none required)
-- @return `{column}`, resp | nil, err
function G:update_column(group_id, column_id, fields)
  A.id(group_id, "group_id", "update_column", 1)
  A.id(column_id, "column_id", "update_column", 2)
  A.table(fields, nil, "update_column", 3)
  check_fields(fields, COLUMN_FIELDS, nil, 3, "update_column", 0)
  return request(self, "PATCH", COLUMN, "update_column", { group_id, column_id }, { json = fields })
end

--- Deletes a column definition (the rows' values stay in their properties).
-- @tparam string group_id
-- @tparam string column_id
-- @return `{ok = "true"}`, resp | nil, err
function G:delete_column(group_id, column_id)
  A.id(group_id, "group_id", "delete_column", 1)
  A.id(column_id, "column_id", "delete_column", 2)
  return request(self, "DELETE", COLUMN, "delete_column", { group_id, column_id })
end

-- Rows

local function check_paging(params, n, fname, depth)
  for k, v in pairs(params) do
    if k ~= "limit" and k ~= "offset" then
      A.fail(fname, n, ("unknown parameter '%s'"):format(tostring(k)), depth + 1)
    end
    if not A.is_int(v) or v < (k == "limit" and 1 or 0) then
      A.fail(fname, n, ("%s must be an integer >= %d"):format(k, k == "limit" and 1 or 0), depth + 1)
    end
  end
end

--- One page of a group's rows, oldest first. The API pages with
-- limit/offset and sends no total; to read every row use `row_items`.
-- @tparam string group_id
-- @tparam[opt] table params `limit` (>= 1), `offset` (>= 0)
-- @return `{rows = {{id, group_id, properties, created_at, updated_at}, ...}}`,
--   resp | nil, err
function G:rows(group_id, params)
  A.id(group_id, "group_id", "rows", 1)
  if params ~= nil then
    A.table(params, nil, "rows", 2)
    check_paging(params, 2, "rows", 0)
  end
  return request(self, "GET", ROWS, "rows", { group_id }, { query = params })
end

local function rows_walk(self, group_id, opts, fname)
  A.id(group_id, "group_id", fname, 1, 1)
  if opts ~= nil then
    A.table(opts, nil, fname, 2, 1)
    for k in pairs(opts) do
      if k ~= "page_size" and k ~= "limit" and k ~= "max_pages" then
        A.fail(fname, 2, ("unknown option '%s' (page_size, limit, max_pages)"):format(tostring(k)), 1)
      end
    end
  end
  local path = resource.path(ROWS, fname, group_id)
  return resource.walker_spec(self, path, {
    style = "offset", items = "rows", default_size = 100, max_size = 1000,
  })
end

--- Walks every page of a group's rows (limit/offset, page_size rows a
-- page, default 100). The walk ends at the first short page.
-- @tparam string group_id
-- @tparam[opt] table opts page_size (1..1000), max_pages, limit (rows in all)
-- @return walker (see kupe.paginate: a `for` iterator, `:each(fn)`, `:all()`)
function G:row_pages(group_id, opts)
  return resource.pages(rows_walk(self, group_id, opts, "row_pages"), opts, "row_pages")
end

--- Walks every row of a group, page after page (see `row_pages`).
--
--     for row in client.people_groups:row_items(group_id) do print(row.properties.Phone) end
-- @tparam string group_id
-- @tparam[opt] table opts as for row_pages
-- @return walker
function G:row_items(group_id, opts)
  return resource.items(rows_walk(self, group_id, opts, "row_items"), opts, "row_items")
end

--- Adds a contact row.
-- @tparam string group_id
-- @tparam table body `{properties = {...}}` (required): values keyed by
--   column display name, e.g. `{properties = {Name = "Asha", Phone = "+9198..."}}`
-- @return `{row}`, resp | nil, err
-- @raise when properties is missing or not a table of properties
function G:create_row(group_id, body)
  A.id(group_id, "group_id", "create_row", 1)
  A.table(body, nil, "create_row", 2)
  check_fields(body, { properties = "object" }, { "properties" }, 2, "create_row", 0)
  return request(self, "POST", ROWS, "create_row", { group_id }, { json = body })
end

--- Replaces a row's properties. The API stores `properties` as a whole:
-- send every value the row should keep, not only the changed ones.
-- @tparam string group_id
-- @tparam string row_id
-- @tparam table body `{properties = {...}}`
-- @return `{row}`, resp | nil, err
function G:update_row(group_id, row_id, body)
  A.id(group_id, "group_id", "update_row", 1)
  A.id(row_id, "row_id", "update_row", 2)
  A.table(body, nil, "update_row", 3)
  check_fields(body, { properties = "object" }, nil, 3, "update_row", 0)
  return request(self, "PATCH", ROW, "update_row", { group_id, row_id }, { json = body })
end

--- Deletes a row.
-- @tparam string group_id
-- @tparam string row_id
-- @return `{ok = "true"}`, resp | nil, err
function G:delete_row(group_id, row_id)
  A.id(group_id, "group_id", "delete_row", 1)
  A.id(row_id, "row_id", "delete_row", 2)
  return request(self, "DELETE", ROW, "delete_row", { group_id, row_id })
end

-- Uploads

local TYPES = {
  csv = "text/csv",
  xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  xls = "application/vnd.ms-excel",
}

local function basename(path)
  return path:match("([^/\\]+)$") or path
end

local function mb(n)
  return ("%.1f MB"):format(n / 1048576)
end

-- The multipart form for `file`, or nil, err for a run-time problem (an
-- unreadable or oversized file). Raises for caller mistakes (level 3: the
-- caller of the method that tail-calls send_file).
local function file_form(file, fname, template, group_id, csv_only)
  if type(file) == "string" then file = { path = file } end
  if type(file) ~= "table" then
    A.fail(fname, 2, "a path or a table {path=} or {data=, filename=} expected, got " .. type(file), 1)
  end
  for k in pairs(file) do
    if k ~= "path" and k ~= "data" and k ~= "filename" and k ~= "type" and k ~= "timeout" then
      A.fail(fname, 2, ("unknown option '%s' (path, data, filename, type, timeout)"):format(tostring(k)), 1)
    end
  end
  local path, data = file.path, file.data
  if (path == nil) == (data == nil) then A.fail(fname, 2, "give path or data, not both or neither", 1) end
  if path ~= nil and (type(path) ~= "string" or path == "") then
    A.fail(fname, 2, "path must be a non-empty string", 1)
  end
  if data ~= nil and type(data) ~= "string" then A.fail(fname, 2, "data must be a string", 1) end
  local filename = file.filename or (path and basename(path))
  if type(filename) ~= "string" or filename == "" then
    A.fail(fname, 2, "filename (e.g. 'contacts.csv') is required with data", 1)
  end
  local ext = filename:match("%.([%w]+)$")
  ext = ext and ext:lower()
  if csv_only and ext ~= "csv" then
    A.fail(fname, 2, ("the file must be a .csv file (got '%s'); use upload for Excel files"):format(filename), 1)
  elseif not TYPES[ext] then
    A.fail(fname, 2, ("the file must be a .csv, .xlsx or .xls file (got '%s'); pass filename = "
      .. "'name.csv' to name it"):format(filename), 1)
  end
  if file.type ~= nil and type(file.type) ~= "string" then A.fail(fname, 2, "type must be a string", 1) end
  if file.timeout ~= nil and type(file.timeout) ~= "number" then
    A.fail(fname, 2, "timeout must be a number", 1)
  end

  local size
  local api_path = resource.path(template, fname, group_id)
  if path then
    local f, oerr = io.open(path, "rb")
    if not f then
      return nil, errors.new { kind = "io", method = "POST", path = api_path,
        message = "cannot read the file to upload", cause = oerr }
    end
    size = f:seek("end")
    f:close()
  else
    size = #data
  end
  if size and size > MAX_UPLOAD then
    return nil, errors.new { kind = "too_large", method = "POST", path = api_path,
      message = ("%s is %s; the API accepts files up to 10 MB"):format(filename, mb(size)),
      hint = "split the file and upload the parts one after the other" }
  end
  local part = { name = "file", filename = filename, type = file.type or TYPES[ext] }
  if path then part.path = path else part.value = data end
  return api_path, { form = { part }, timeout = file.timeout }
end

-- Always tail-called by the public methods, so level 2 is their caller.
local function send_file(self, group_id, file, fname, template, csv_only)
  A.id(group_id, "group_id", fname, 1)
  local api_path, opts = file_form(file, fname, template, group_id, csv_only)
  if not api_path then return nil, opts end
  return self._client:request("POST", api_path, opts)
end

--- Parses a contact file and shows what an upload would do, without
-- writing anything: `{detected_headers, column_mapping, phone_column,
-- sample_rows, total_rows, rows_missing_phone, warnings}`.
-- @tparam string group_id
-- @param file a path, or `{path = ...}` (streamed from disk) or
--   `{data = "csv text", filename = "contacts.csv"}`; optional `type`
--   (the part's content type, from the extension by default) and `timeout`
-- @return preview, resp | nil, err (kind "io" when the file cannot be
--   read, "too_large" above 10 MB: nothing is sent then; 400 for a file
--   the server cannot parse, 413 above its limit)
-- @raise for a file name that is not .csv, .xlsx or .xls
function G:preview_upload(group_id, file)
  return send_file(self, group_id, file, "preview_upload", GROUP .. "/upload/preview")
end

--- Imports rows from a CSV, XLSX or XLS file: headers map to columns by
-- name, missing columns are created, rows without a phone number are
-- skipped. Answers `{message, inserted_count, skipped_count,
-- columns_created, column_mapping, warnings}`.
-- @tparam string group_id
-- @param file as for preview_upload
-- @return result, resp | nil, err
function G:upload(group_id, file)
  return send_file(self, group_id, file, "upload", GROUP .. "/upload")
end

--- The legacy CSV-only import (deprecated by the API: prefer `upload`,
-- which also reads Excel). The file must be UTF-8 CSV.
-- @tparam string group_id
-- @param file as for preview_upload
-- @return result, resp | nil, err
-- @raise for a file name that does not end in .csv
function G:upload_csv(group_id, file)
  return send_file(self, group_id, file, "upload_csv", GROUP .. "/upload-csv", true)
end

return G
