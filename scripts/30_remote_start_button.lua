-- A SCADA button that starts a charging session remotely (RemoteStartTransaction).
--
--   <cp>.Button.RemoteStart          the button: write true (or any number but 0) to press it
--   <cp>.Button.RemoteStart.IdTag    the idTag to start with (default "SCADA")
--   <cp>.Button.RemoteStart.Connector  optional connector id
--   <cp>.Button.RemoteStart.Result   written by this script: the charge point's answer or the error
-- The script releases the button (false) once the charge point has answered.

on_change("*.Button.RemoteStart", function(name, value)
  if value ~= true and (type(value) ~= "number" or value == 0) then return end
  local cp = name:sub(1, #name - #".Button.RemoteStart")
  local payload = {idTag = tag.get(name .. ".IdTag") or "SCADA"}
  local connector = tonumber(tag.get(name .. ".Connector"))
  if connector and connector > 0 then payload.connectorId = math.tointeger(connector) end
  local result, err = call(cp, "RemoteStartTransaction", payload)
  if err then
    tag.set(name .. ".Result", "Error: " .. tostring(err.code) .. " " .. tostring(err.description))
  else
    tag.set(name .. ".Result", result.status)
  end
  tag.set(name, false)
end)
