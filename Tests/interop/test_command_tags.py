"""Commands through tags: `{cp}.TriggerMessage.*` and the generic `{cp}.Command.*`."""

from __future__ import annotations

import json

from ocpp.exceptions import NotSupportedError
from ocpp.v16 import call, call_result

from conftest import charge_point, same_value


async def boot(cp):
    await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"), suppress=False)


async def next_request_number(api, name: str) -> int:
    tag = await api.aget_tag(name)
    current = 0 if tag is None or tag["value"] in (None, "") else tag["value"]
    assert isinstance(current, int) and not isinstance(current, bool), tag
    return current + 1


async def put_ok(api, name, value):
    status, body = await api.aput_tag(name, value)
    assert status == 200, (name, value, status, body)


async def test_trigger_message_through_tags(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        await put_ok(api, f"{cp_id}.TriggerMessage.RequestedMessage", "Heartbeat")
        n = await next_request_number(api, f"{cp_id}.TriggerMessage.Request")
        await put_ok(api, f"{cp_id}.TriggerMessage.Request", n)

        seen = await cp.wait_received("TriggerMessage", timeout=5)
        assert seen == {"requested_message": "Heartbeat"}, seen
        await api.wait_tag(f"{cp_id}.TriggerMessage.Status", "Accepted")
        await api.wait_tag(f"{cp_id}.TriggerMessage.Response", n)

        # Again, with a connector id and a different answer.
        cp.behaviour["TriggerMessage"] = lambda **kw: call_result.TriggerMessage(status="Rejected")
        await put_ok(api, f"{cp_id}.TriggerMessage.RequestedMessage", "StatusNotification")
        await put_ok(api, f"{cp_id}.TriggerMessage.ConnectorId", 1)
        await put_ok(api, f"{cp_id}.TriggerMessage.Request", n + 1)
        seen = await cp.wait_received("TriggerMessage", timeout=5, count=2)
        assert seen == {"requested_message": "StatusNotification", "connector_id": 1}, seen
        await api.wait_tag(f"{cp_id}.TriggerMessage.Response", n + 1)
        await api.wait_tag(f"{cp_id}.TriggerMessage.Status", "Rejected")


async def test_generic_command_through_tags(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
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
        await boot(cp)

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
        await boot(cp)
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
        await boot(cp)

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
