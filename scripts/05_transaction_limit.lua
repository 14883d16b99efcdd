-- A cap on concurrent transactions per site (the grid connection or the car park's contract).
--
--   Site.MaxConcurrentTransactions   0 (default) = no cap; N = at most N active transactions in all
--   Site.TransactionLimitStatus      the status answered when the cap is reached (default "Blocked")
--   Site.ActiveTransactions          written by this script: the number of active transactions now
--
-- Loaded before the authorization list (file names sort), so a full site refuses before the list is asked;
-- under the cap it returns nil and the next decider (the authorization list) decides.

if tag.get("Site.MaxConcurrentTransactions") == nil then tag.set("Site.MaxConcurrentTransactions", 0) end
if tag.get("Site.TransactionLimitStatus") == nil then tag.set("Site.TransactionLimitStatus", "Blocked") end

local active = {}   -- "<cp>.Connector<n>.Transaction.Active" -> true
local count = 0

local function note(name, value)
  if value == true and not active[name] then
    active[name] = true
    count = count + 1
  elseif value ~= true and active[name] then
    active[name] = nil
    count = count - 1
  end
end

-- Once at load: the transactions active now. Afterwards the change feed keeps the count.
for _, t in ipairs(tag.list("")) do
  if t.name:match("%.Connector%d+%.Transaction%.Active$") then note(t.name, t.value) end
end
tag.set("Site.ActiveTransactions", count)

on_change("*.Transaction.Active", function(name, value)
  note(name, value)
  tag.set("Site.ActiveTransactions", count)
end)

local function refuse_if_full()
  local cap = tonumber(tag.get("Site.MaxConcurrentTransactions")) or 0
  if cap <= 0 or count < cap then return nil end
  log.info("site is full:", count, "of", cap, "transactions active")
  return tag.get("Site.TransactionLimitStatus") or "Blocked"
end

on_request("Authorize", function(cp, request) return refuse_if_full() end)
on_request("StartTransaction", function(cp, request) return refuse_if_full() end)
