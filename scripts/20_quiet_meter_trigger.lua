-- Asks charge points that have gone quiet for their meter values (TriggerMessage MeterValues).
--
--   Scripts.QuietMeter.Seconds   how long without a meter value before a trigger (default 300; 0 = off)
--
-- Only connectors with an active transaction are asked; each quiet connector at most once per period.

if tag.get("Scripts.QuietMeter.Seconds") == nil then tag.set("Scripts.QuietMeter.Seconds", 300) end

local watched = {}   -- "<cp>|<connector>" -> {cp=, connector=, last=os.time() of the last meter value}

local function key(cp, connector) return cp .. "|" .. connector end

local function watch(name, value)
  local cp, connector = name:match("^(.*)%.Connector(%d+)%.Transaction%.Active$")
  if not cp then return end
  if value == true then
    watched[key(cp, connector)] = {cp = cp, connector = tonumber(connector), last = os.time()}
  else
    watched[key(cp, connector)] = nil
  end
end

for _, t in ipairs(tag.list("")) do watch(t.name, t.value) end
on_change("*.Transaction.Active", watch)

on_change("*.Connector*.Meter.*", function(name)
  local cp, connector = name:match("^(.*)%.Connector(%d+)%.Meter%.")
  local entry = cp and watched[key(cp, connector)]
  if entry then entry.last = os.time() end
end)

every(10, function()
  local quiet = tonumber(tag.get("Scripts.QuietMeter.Seconds")) or 0
  if quiet <= 0 then return end
  local now = os.time()
  local due = {}   -- collected first: call() suspends this handler, and the table may change meanwhile
  for _, entry in pairs(watched) do
    if now - entry.last >= quiet and tag.get(entry.cp .. ".Online") == true then
      entry.last = now   -- at most once per period
      due[#due + 1] = entry
    end
  end
  for _, entry in ipairs(due) do
    local result, err = call(entry.cp, "TriggerMessage", {requestedMessage = "MeterValues", connectorId = entry.connector})
    if err then
      log.warn("TriggerMessage MeterValues to", entry.cp, "failed:", err.code, err.description)
    else
      log.info("asked", entry.cp, "connector", entry.connector, "for meter values:", result.status)
    end
  end
end)
