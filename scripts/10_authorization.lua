-- Local authorization list held in tags, the way a SCADA project keeps one.
--
-- Per idTag (idTags are compared case-insensitively, as OCPP 1.6 says, so keys are upper case):
--   Auth.List.<IDTAG>.Status   "Accepted", "Blocked", "Expired", "Invalid" (write it from the HMI or REST)
--   Auth.List.<IDTAG>.Expiry   optional RFC 3339 date; past it the idTag answers "Expired"
--   Auth.List.<IDTAG>.Parent   optional parent idTag (group), sent as parentIdTag
-- Policy for idTags not on the list:
--   Auth.AcceptUnknown         true (default, so a new installation charges out of the box) or false
-- Decides Authorize and StartTransaction; StopTransaction is always accepted (the session has ended).

local function setting(name, default)
  local value = tag.get(name)
  if value == nil then
    tag.set(name, default)
    return default
  end
  return value
end

setting("Auth.AcceptUnknown", true)

-- "2026-12-31T23:00:00Z" -> seconds since the epoch (UTC), or nil.
local function parse_time(text)
  if type(text) ~= "string" then return nil end
  local y, mo, d, h, mi, s = text:match("^(%d+)-(%d+)-(%d+)[Tt ](%d+):(%d+):(%d+)")
  if not y then return nil end
  local offset = 0
  local sign, oh, om = text:match("([+-])(%d%d):?(%d%d)$")
  if sign then offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "-" and -1 or 1) end
  -- os.time reads a table as local time; correct by the local offset of the epoch.
  local t = os.time({year = tonumber(y), month = tonumber(mo), day = tonumber(d), hour = tonumber(h),
                     min = tonumber(mi), sec = tonumber(s), isdst = false})
  local utc_offset = os.time(os.date("!*t", 0)) - os.time(os.date("*t", 0))
  return t - utc_offset - offset
end

local function decide(id_tag)
  local key = "Auth.List." .. string.upper(id_tag or "")
  local status = tag.get(key .. ".Status")
  if status == nil then
    if tag.get("Auth.AcceptUnknown") == true then return "Accepted" end
    return "Invalid"
  end
  local answer = {status = status}
  local expiry = tag.get(key .. ".Expiry")
  if type(expiry) == "string" and expiry ~= "" then
    local at = parse_time(expiry)
    if at and at < os.time() and status == "Accepted" then answer.status = "Expired" end
    answer.expiryDate = expiry
  end
  local parent = tag.get(key .. ".Parent")
  if type(parent) == "string" and parent ~= "" then answer.parentIdTag = parent end
  return answer
end

on_request("Authorize", function(cp, request)
  return decide(request.idTag)
end)

on_request("StartTransaction", function(cp, request)
  return decide(request.idTag)
end)

on_request("StopTransaction", function(cp, request)
  return "Accepted"
end)
