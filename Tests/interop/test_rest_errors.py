"""Error paths of the REST API: invalid payloads, unknown/offline charge points, CALLERRORs, timeouts,
read-only tags."""

from __future__ import annotations

import asyncio
import time
import urllib.parse

import pytest
from ocpp.exceptions import NotSupportedError, PropertyConstraintViolationError
from ocpp.v16 import call, call_result

from conftest import CALL_TIMEOUT, boot16, charge_point


INVALID = [
    ("ChangeAvailability", {"connectorId": 1}),                                   # missing required `type`
    ("ChangeAvailability", {"connectorId": 1, "type": "Sometimes"}),              # not in the enum
    ("ChangeAvailability", {"connectorId": "one", "type": "Inoperative"}),        # wrong type
    ("Reset", {"type": "Soft", "extra": 1}),                                      # additionalProperties: false
    ("RemoteStartTransaction", {"idTag": "X" * 21}),                              # CiString20
    ("ChangeConfiguration", {"key": "K" * 51, "value": "1"}),                     # CiString50
    ("RemoteStopTransaction", {}),                                                # missing transactionId
    ("TriggerMessage", {"requestedMessage": "Everything"}),                       # not in the enum
]


@pytest.mark.parametrize("action,payload", INVALID,
                         ids=[f"{a}-{i}" for i, (a, _) in enumerate(INVALID)])
async def test_invalid_payload_is_400_and_nothing_is_sent(bridge, api, cp_id, action, payload):
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)
        status, body = await api.call(cp_id, action, payload)
        assert status == 400, body
        await asyncio.sleep(0.5)
        assert cp.received == [], f"the charge point received {cp.received}"
        # The session still works.
        status, body = await api.call(cp_id, "ClearCache", {})
        assert status == 200, body


async def test_body_not_json_is_400(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)
        path = f"/api/chargepoints/{urllib.parse.quote(cp_id, safe='')}/calls/Reset"
        status, body = await api.arequest("POST", path, b"{not json")
        assert status == 400, body
        status, body = await api.arequest("POST", path, b"[1, 2]")
        assert status == 400, body
        await asyncio.sleep(0.3)
        assert cp.received == []


async def test_charge_point_initiated_action_cannot_be_called(bridge, api, cp_id):
    """BootNotification is charge-point-initiated: the bridge must not send it to a charge point."""
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)
        status, body = await api.call(cp_id, "BootNotification",
                                      {"chargePointModel": "M", "chargePointVendor": "V"})
        assert status in (400, 404), (status, body)
        status, body = await api.call(cp_id, "NoSuchAction", {})
        assert status in (400, 404), (status, body)
        await asyncio.sleep(0.3)
        assert cp.received == []


async def test_unknown_charge_point_is_404(bridge, api, cp_id):
    status, body = await api.call(cp_id, "Reset", {"type": "Soft"})
    assert status == 404, body
    status, body = await api.chargepoint(cp_id)
    assert status == 404, body


async def test_offline_charge_point_is_404(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)
    await api.wait_tag(f"{cp_id}.Online", False)
    status, body = await api.call(cp_id, "Reset", {"type": "Soft"})
    assert status == 404, body
    status, body = await api.chargepoint(cp_id)
    assert status == 200 and body["online"] is False, body


async def test_callerror_is_502_with_code(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)

        def not_supported(**kwargs):
            raise NotSupportedError(description="Reset is not supported here", details={"why": "test"})

        cp.behaviour["Reset"] = not_supported
        status, body = await api.call(cp_id, "Reset", {"type": "Hard"})
        assert status == 502, body
        err = body["error"]
        assert err["code"] == "NotSupported", body
        assert err["description"] == "Reset is not supported here", body
        assert err["details"] == {"why": "test"}, body

        def constraint(**kwargs):
            raise PropertyConstraintViolationError(description="bad key")

        cp.behaviour["ChangeConfiguration"] = constraint
        status, body = await api.call(cp_id, "ChangeConfiguration", {"key": "X", "value": "y"})
        assert status == 502, body
        assert body["error"]["code"] == "PropertyConstraintViolation", body

        def crash(**kwargs):
            raise RuntimeError("boom")  # the library answers InternalError

        cp.behaviour["ClearCache"] = crash
        status, body = await api.call(cp_id, "ClearCache", {})
        assert status == 502, body
        assert body["error"]["code"] == "InternalError", body


async def test_no_handler_is_502_not_implemented(bridge, api, cp_id):
    """A charge point without a handler answers NotImplemented (the library does so)."""
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)
        cp.route_map.pop("Reset", None)
        status, body = await api.call(cp_id, "Reset", {"type": "Soft"})
        assert status == 502, body
        assert body["error"]["code"] == "NotImplemented", body


async def test_no_answer_is_504_and_late_answer_is_dropped(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)

        async def slow(**kwargs):
            await asyncio.sleep(CALL_TIMEOUT + 2)
            return call_result.Reset(status="Accepted")

        cp.behaviour["Reset"] = slow
        t0 = time.monotonic()
        status, body = await api.call(cp_id, "Reset", {"type": "Soft"})
        elapsed = time.monotonic() - t0
        assert status == 504, body
        assert CALL_TIMEOUT * 0.8 <= elapsed < CALL_TIMEOUT + 3, elapsed
        # Let the late answer arrive; the bridge must drop it and keep the session usable.
        await asyncio.sleep(CALL_TIMEOUT + 2.5 - elapsed)
        status, body = await api.call(cp_id, "ClearCache", {})
        assert status == 200, body
        assert body == {"result": {"status": "Accepted"}}, body
        result = await cp.call(call.Heartbeat(), suppress=False)
        assert result.current_time


async def test_tag_errors(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)
        await api.wait_tag(f"{cp_id}.Boot.Vendor", "V")
        status, body = await api.aput_tag(f"{cp_id}.Boot.Vendor", "Hacked")
        assert status == 403, body
        assert (await api.aget_tag(f"{cp_id}.Boot.Vendor"))["value"] == "V"
        for derived in (f"{cp_id}.Online", f"{cp_id}.Protocol"):
            status, body = await api.aput_tag(derived, "x")
            assert status == 403, (derived, body)

    status, body = await api.arequest("GET", api.tag_path(f"{cp_id}.No.Such.Tag"))
    assert status == 404, body


async def test_user_and_handshake_tags_are_writable(bridge, api, cp_id):
    name = f"{cp_id}-user.Setpoint"
    status, body = await api.aput_tag(name, 42.5)
    assert status == 200, body
    tag = await api.wait_tag(name, 42.5)
    assert tag["writable"] is True, tag
    status, body = await api.aput_tag(name, "text")
    assert status == 200, body
    await api.wait_tag(name, "text")
    status, body = await api.aput_tag(name, True)
    assert status == 200, body
    await api.wait_tag(name, True)

    status, body = await api.aput_tag(f"{cp_id}.Authorize.Status", "Accepted")
    assert status == 200, body


async def test_put_tag_bad_body_is_400(bridge, api, cp_id):
    name = f"{cp_id}-user.X"
    status, body = await api.arequest("PUT", api.tag_path(name), b"not json")
    assert status == 400, body
    status, body = await api.arequest("PUT", api.tag_path(name), {"noValue": 1})
    assert status == 400, body
