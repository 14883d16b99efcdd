"""The Lua script engine end to end: the real binary, real scripts, a real SQLite file and the PyPI `ocpp`
charge point. One bridge runs the shipped `scripts/` plus a few test scripts."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from ocpp.v16 import call

from conftest import charge_point, running_bridge, utcnow

TEST_SCRIPTS = {
    # A script-issued TriggerMessage after a tag change: write <cp>.Ask = "StatusNotification".
    "40_ask.lua": """
on_change("*.Ask", function(name, value)
  if type(value) ~= "string" or value == "" then return end
  local cp = name:sub(1, #name - 4)
  local result, err = call(cp, "TriggerMessage", {requestedMessage = value})
  tag.set(cp .. ".AskResult", err and ("Error: " .. err.code) or result.status)
end)
""",
    # A runaway handler: must be stopped by the instruction limit without stalling anything else.
    "50_runaway.lua": """
on_change("Test.Spin", function(name, value)
  if value == true then while true do end end
end)
""",
}


@pytest.fixture(scope="module")
def scripted():
    with running_bridge("ocpp-bridge-scripts-", shipped_scripts=True, scripts=TEST_SCRIPTS) as b:
        yield b


async def session(cp, id_tag: str, meter_start: int = 1000):
    await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
    auth = await cp.call(call.Authorize(id_tag=id_tag))
    start = await cp.call(call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=meter_start, timestamp=utcnow()))
    return auth, start


async def test_a_new_users_session_succeeds_with_the_shipped_scripts(scripted, cp_id):
    api = scripted.api
    async with charge_point(scripted, cp_id) as cp:
        started = time.monotonic()
        auth, start = await session(cp, "NEWUSER1")
        assert auth.id_tag_info["status"] == "Accepted"
        assert start.id_tag_info["status"] == "Accepted"
        assert time.monotonic() - started < 2, "decided by the script, not by the 2 s timeout default"
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Active", True)
        stop = await cp.call(call.StopTransaction(transaction_id=start.transaction_id, meter_stop=1500,
                                                  timestamp=utcnow(), id_tag="NEWUSER1"))
        assert stop.id_tag_info["status"] == "Accepted"
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Active", False)
        # The decision went through the handshake tags: the script answered the request number.
        request = (await api.aget_tag(f"{cp_id}.Authorize.Request"))["value"]
        assert (await api.aget_tag(f"{cp_id}.Authorize.Response"))["value"] == request
        assert (await api.aget_tag(f"{cp_id}.Authorize.Status"))["value"] == "Accepted"


async def test_the_authorization_list_in_tags_decides(scripted, cp_id):
    api = scripted.api
    await api.aput_tag("Auth.List.BLOCKED7.Status", "Blocked")
    await api.aput_tag("Auth.List.FLEET1.Status", "Accepted")
    await api.aput_tag("Auth.List.FLEET1.Parent", "FLEET")
    await api.aput_tag("Auth.List.FLEET1.Expiry", "2099-01-01T00:00:00Z")
    await api.aput_tag("Auth.List.OLD1.Status", "Accepted")
    await api.aput_tag("Auth.List.OLD1.Expiry", "2001-01-01T00:00:00Z")
    async with charge_point(scripted, cp_id) as cp:
        blocked = await cp.call(call.Authorize(id_tag="blocked7"))  # idTags compare case-insensitively
        assert blocked.id_tag_info["status"] == "Blocked"
        fleet = await cp.call(call.Authorize(id_tag="FLEET1"))
        assert fleet.id_tag_info["status"] == "Accepted"
        assert fleet.id_tag_info["parent_id_tag"] == "FLEET"
        assert fleet.id_tag_info["expiry_date"].startswith("2099-01-01T00:00:00")
        old = await cp.call(call.Authorize(id_tag="OLD1"))
        assert old.id_tag_info["status"] == "Expired"
        await api.aput_tag("Auth.AcceptUnknown", False)
        try:
            unknown = await cp.call(call.Authorize(id_tag="STRANGER"))
            assert unknown.id_tag_info["status"] == "Invalid"
        finally:
            await api.aput_tag("Auth.AcceptUnknown", True)


async def test_the_site_cap_refuses_a_transaction_over_the_limit(scripted, cp_id):
    api = scripted.api
    async with charge_point(scripted, cp_id) as cp:
        await api.aput_tag("Site.MaxConcurrentTransactions", 1)
        try:
            _, first = await session(cp, "CAPUSER1")
            assert first.id_tag_info["status"] == "Accepted"
            await api.wait_tag("Site.ActiveTransactions", lambda v: isinstance(v, (int, float)) and v >= 1)
            second = await cp.call(call.StartTransaction(connector_id=2, id_tag="CAPUSER2", meter_start=0, timestamp=utcnow()))
            assert second.id_tag_info["status"] == "Blocked"
            await cp.call(call.StopTransaction(transaction_id=first.transaction_id, meter_stop=1100, timestamp=utcnow()))
            await cp.call(call.StopTransaction(transaction_id=second.transaction_id, meter_stop=0, timestamp=utcnow()))
        finally:
            await api.aput_tag("Site.MaxConcurrentTransactions", 0)


async def test_a_scada_button_becomes_a_remote_start(scripted, cp_id):
    api = scripted.api
    async with charge_point(scripted, cp_id) as cp:
        await cp.call(call.Heartbeat())
        await api.aput_tag(f"{cp_id}.Button.RemoteStart.IdTag", "OPERATOR1")
        await api.aput_tag(f"{cp_id}.Button.RemoteStart.Connector", 2)
        await api.aput_tag(f"{cp_id}.Button.RemoteStart", True)
        request = await cp.wait_received("RemoteStartTransaction")
        assert request["id_tag"] == "OPERATOR1"
        assert request["connector_id"] == 2
        await api.wait_tag(f"{cp_id}.Button.RemoteStart.Result", "Accepted")
        await api.wait_tag(f"{cp_id}.Button.RemoteStart", False)


async def test_a_script_sends_trigger_message_after_a_tag_change(scripted, cp_id):
    api = scripted.api
    async with charge_point(scripted, cp_id) as cp:
        await cp.call(call.Heartbeat())
        await api.aput_tag(f"{cp_id}.Ask", "StatusNotification")
        request = await cp.wait_received("TriggerMessage")
        assert request["requested_message"] == "StatusNotification"
        await api.wait_tag(f"{cp_id}.AskResult", "Accepted")


async def test_a_runaway_script_does_not_stall_other_charge_points(scripted, cp_id):
    api = scripted.api
    errors_before = (await api.aget_tag("Scripts.Errors") or {}).get("value") or 0
    async with charge_point(scripted, cp_id) as cp:
        await cp.call(call.Heartbeat())
        await api.aput_tag("Test.Spin", True)
        # While the runaway handler burns its instruction budget, Heartbeats are answered at once.
        worst = 0.0
        for _ in range(20):
            started = time.monotonic()
            await cp.call(call.Heartbeat())
            worst = max(worst, time.monotonic() - started)
        assert worst < 1.0, f"a Heartbeat took {worst:.3f} s"
        await api.wait_tag("Scripts.Errors", lambda v: isinstance(v, int) and v > errors_before, timeout=10)
        last = (await api.aget_tag("Scripts.LastError"))["value"]
        assert "50_runaway.lua" in last and "instruction" in last
        # The engine still decides afterwards.
        auth = await cp.call(call.Authorize(id_tag="AFTERSPIN"))
        assert auth.id_tag_info["status"] == "Accepted"
        await api.aput_tag("Test.Spin", False)


async def test_reload_over_rest_and_sighup_keeps_charge_points_connected(scripted, cp_id):
    api = scripted.api
    async with charge_point(scripted, cp_id) as cp:
        await cp.call(call.Heartbeat())
        status, body = await api.arequest("POST", "/api/scripts/reload")
        assert status == 200, body
        assert "scripts/10_authorization.lua" in body["loaded"]
        assert body["errors"] == []
        scripted.proc.send_signal(signal.SIGHUP)
        await asyncio.sleep(0.3)
        assert scripted.proc.poll() is None
        auth = await cp.call(call.Authorize(id_tag="AFTERRELOAD"))
        assert auth.id_tag_info["status"] == "Accepted"
        assert (await api.aget_tag(f"{cp_id}.Online"))["value"] is True
