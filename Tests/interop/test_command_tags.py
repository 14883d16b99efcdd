"""Commands through tags: `{cp}.TriggerMessage.*` (with a 1.6 charge point and a 2.0.1 charging station)
and the generic `{cp}.Command.*` (1.6; the 2.0.1 one is in test_v201_csms_initiated.py)."""

from __future__ import annotations

import json

import pytest
from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call_result
from ocpp.v201 import call_result as call_result201

from conftest import boot16, charge_point, next_request_number, put_ok, same_value
from v201 import boot201, cp201

# (connect, boot, the Rejected answer, what the station gets for RequestedMessage StatusNotification + ConnectorId 1)
TRIGGER_VERSIONS = [
    pytest.param(charge_point, boot16, call_result.TriggerMessage(status="Rejected"),
                 {"requested_message": "StatusNotification", "connector_id": 1}, id="1.6"),
    # 2.0.1: the connector id is EVSE n, connector 1.
    pytest.param(cp201, boot201, call_result201.TriggerMessage(status="Rejected"),
                 {"requested_message": "StatusNotification", "evse": {"id": 1, "connector_id": 1}}, id="2.0.1"),
]


@pytest.mark.parametrize("connect,boot,rejected,seen_with_connector", TRIGGER_VERSIONS)
async def test_trigger_message_through_tags(bridge, api, cp_id, connect, boot, rejected, seen_with_connector):
    async with connect(bridge, cp_id) as cp:
        await boot(cp)
        await put_ok(api, f"{cp_id}.TriggerMessage.RequestedMessage", "Heartbeat")
        n = await next_request_number(api, f"{cp_id}.TriggerMessage.Request")
        await put_ok(api, f"{cp_id}.TriggerMessage.Request", n)

        seen = await cp.wait_received("TriggerMessage", timeout=5)
        assert seen == {"requested_message": "Heartbeat"}, seen
        await api.wait_tag(f"{cp_id}.TriggerMessage.Status", "Accepted")
        await api.wait_tag(f"{cp_id}.TriggerMessage.Response", n)

        # Again, with a connector id and a different answer.
        cp.behaviour["TriggerMessage"] = lambda **kw: rejected
        await put_ok(api, f"{cp_id}.TriggerMessage.RequestedMessage", "StatusNotification")
        await put_ok(api, f"{cp_id}.TriggerMessage.ConnectorId", 1)
        await put_ok(api, f"{cp_id}.TriggerMessage.Request", n + 1)
        seen = await cp.wait_received("TriggerMessage", timeout=5, count=2)
        assert seen == seen_with_connector, seen
        await api.wait_tag(f"{cp_id}.TriggerMessage.Response", n + 1)
        await api.wait_tag(f"{cp_id}.TriggerMessage.Status", "Rejected")


async def test_generic_command_through_tags(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)
        await put_ok(api, f"{cp_id}.Command.Action", "ChangeConfiguration")
        await put_ok(api, f"{cp_id}.Command.Payload", json.dumps({"key": "HeartbeatInterval", "value": "60"}))
        n = await next_request_number(api, f"{cp_id}.Command.Request")
        await put_ok(api, f"{cp_id}.Command.Request", n)

        seen = await cp.wait_received("ChangeConfiguration", timeout=5)
        assert seen == {"key": "HeartbeatInterval", "value": "60"}, seen
        await api.wait_tag(f"{cp_id}.Command.Response", n)
        result = await api.aget_tag(f"{cp_id}.Command.Result")
        assert result is not None and isinstance(result["value"], str), result
        assert json.loads(result["value"]) == {"status": "Accepted"}, result
        error = await api.aget_tag(f"{cp_id}.Command.Error")
        assert error is None or error["value"] in (None, ""), error

        # A second command with a nested payload.
        await put_ok(api, f"{cp_id}.Command.Action", "GetConfiguration")
        await put_ok(api, f"{cp_id}.Command.Payload", json.dumps({"key": ["HeartbeatInterval"]}))
        await put_ok(api, f"{cp_id}.Command.Request", n + 1)
        seen = await cp.wait_received("GetConfiguration", timeout=5)
        assert seen == {"key": ["HeartbeatInterval"]}, seen
        await api.wait_tag(f"{cp_id}.Command.Response", n + 1)
        result = json.loads((await api.aget_tag(f"{cp_id}.Command.Result"))["value"])
        assert result["configurationKey"][0] == {"key": "HeartbeatInterval", "readonly": False, "value": "300"}


async def test_generic_command_callerror_sets_error(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)

        def refuse(**kwargs):
            raise NotSupportedError(description="no reset today")

        cp.behaviour["Reset"] = refuse
        await put_ok(api, f"{cp_id}.Command.Action", "Reset")
        await put_ok(api, f"{cp_id}.Command.Payload", json.dumps({"type": "Hard"}))
        n = await next_request_number(api, f"{cp_id}.Command.Request")
        await put_ok(api, f"{cp_id}.Command.Request", n)
        await cp.wait_received("Reset", timeout=5)
        await api.wait_tag(f"{cp_id}.Command.Response", n)
        error = await api.aget_tag(f"{cp_id}.Command.Error")
        assert error is not None and "NotSupported" in str(error["value"]), error


async def test_generic_command_invalid_payload_is_not_sent(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)
        await put_ok(api, f"{cp_id}.Command.Action", "Reset")
        await put_ok(api, f"{cp_id}.Command.Payload", json.dumps({"type": "Sideways"}))
        n = await next_request_number(api, f"{cp_id}.Command.Request")
        await put_ok(api, f"{cp_id}.Command.Request", n)
        await api.wait_tag(f"{cp_id}.Command.Response", n)
        error = await api.aget_tag(f"{cp_id}.Command.Error")
        assert error is not None and error["value"] not in (None, ""), error
        assert cp.received == [], cp.received


async def test_command_request_tags_are_writable(bridge, api, cp_id):
    """The request side of a command is writable (SCADA writes it)."""
    for name in ("TriggerMessage.RequestedMessage", "Command.Action", "Command.Payload"):
        status, body = await api.aput_tag(f"{cp_id}.{name}", "Heartbeat" if "Trigger" in name else "x")
        assert status == 200, (name, status, body)
    tag = await api.aget_tag(f"{cp_id}.Command.Action")
    assert tag["writable"] is True and same_value(tag["value"], "x"), tag


async def test_trigger_message_callerror_sets_error_status(bridge, api, cp_id):
    """docs/tags.md: `.Status` is the charge point's answer, or `Error: ...`; `.Response` is written either way."""
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)

        def refuse(**kwargs):
            raise NotSupportedError(description="no triggers")

        cp.behaviour["TriggerMessage"] = refuse
        await put_ok(api, f"{cp_id}.TriggerMessage.RequestedMessage", "MeterValues")
        n = await next_request_number(api, f"{cp_id}.TriggerMessage.Request")
        await put_ok(api, f"{cp_id}.TriggerMessage.Request", n)
        await cp.wait_received("TriggerMessage", timeout=5)
        await api.wait_tag(f"{cp_id}.TriggerMessage.Response", n)
        status = await api.aget_tag(f"{cp_id}.TriggerMessage.Status")
        assert isinstance(status["value"], str) and status["value"].startswith("Error"), status
        assert "NotSupported" in status["value"], status
