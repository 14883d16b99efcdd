"""Every CSMS-initiated OCPP 1.6 message, issued through `POST /api/chargepoints/{id}/calls/{Action}`
and answered by the PyPI `ocpp` library's charge point (which validates the bridge's CALLs against the
official JSON schemas before its handler runs)."""

from __future__ import annotations

import asyncio
import json

import pytest
from ocpp.charge_point import camel_to_snake_case
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

from conftest import (
    CSMS_ACTIONS, DEFAULT_RESPONSES, as_camel, assert_call_through_rest, boot16, charge_point, normalize,
)


def expected_result(action: str) -> dict:
    return as_camel(DEFAULT_RESPONSES[action]())


TX_PROFILE = {
    "chargingProfileId": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]},
}

DEFAULT_PROFILE = {
    "chargingProfileId": 3,
    "stackLevel": 1,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Recurring",
    "recurrencyKind": "Daily",
    "validFrom": "2030-01-01T00:00:00Z",
    "validTo": "2031-01-01T00:00:00.500Z",
    "chargingSchedule": {
        "duration": 86400,
        "startSchedule": "2030-01-01T00:00:00Z",
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
            {"startPeriod": 3600, "limit": 7400.5},
        ],
        "minChargingRate": 1000.0,
    },
}

# Action -> the request payload sent through REST (OCPP camelCase keys).
REQUESTS = {
    "ChangeAvailability": {"connectorId": 1, "type": "Inoperative"},
    "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "60"},
    "ClearCache": {},
    "DataTransfer": {"vendorId": "com.example.interop", "messageId": "cfg", "data": "{\"a\": [1, 2]}"},
    "GetConfiguration": {"key": ["HeartbeatInterval", "NoSuchKey"]},
    "RemoteStartTransaction": {"connectorId": 1, "idTag": "REMOTE1", "chargingProfile": TX_PROFILE},
    "RemoteStopTransaction": {"transactionId": 12},
    "Reset": {"type": "Soft"},
    "UnlockConnector": {"connectorId": 1},
    "GetDiagnostics": {
        "location": "ftp://diag.example.com/upload",
        "retries": 2,
        "retryInterval": 30,
        "startTime": "2030-01-01T00:00:00Z",
        "stopTime": "2030-01-02T00:00:00Z",
    },
    "UpdateFirmware": {"location": "https://fw.example.com/fw-2.0.bin", "retrieveDate": "2030-01-01T00:00:00Z",
                       "retries": 1, "retryInterval": 60},
    "GetLocalListVersion": {},
    "SendLocalList": {
        "listVersion": 8,
        "updateType": "Full",
        "localAuthorizationList": [
            {"idTag": "TAG1", "idTagInfo": {"status": "Accepted", "expiryDate": "2031-01-01T00:00:00Z",
                                            "parentIdTag": "PARENT1"}},
            {"idTag": "TAG2", "idTagInfo": {"status": "Blocked"}},
            {"idTag": "TAG3"},
        ],
    },
    "CancelReservation": {"reservationId": 5},
    "ReserveNow": {"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "RES1", "reservationId": 5,
                   "parentIdTag": "PARENT1"},
    "ClearChargingProfile": {"id": 3, "connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile",
                             "stackLevel": 1},
    "GetCompositeSchedule": {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"},
    "SetChargingProfile": {"connectorId": 1, "csChargingProfiles": DEFAULT_PROFILE},
    "TriggerMessage": {"requestedMessage": "StatusNotification", "connectorId": 1},
}

assert set(REQUESTS) == set(CSMS_ACTIONS)


@pytest.mark.parametrize("action", CSMS_ACTIONS)
async def test_csms_call_through_rest(bridge, api, cp_id, action):
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)
        await assert_call_through_rest(api, cp, cp_id, action, REQUESTS[action], expected_result(action))


@pytest.mark.parametrize(
    "action,payload,answer,expected",
    [
        ("Reset", {"type": "Hard"}, lambda **kw: DEFAULT_RESPONSES["Reset"]().__class__(status="Rejected"),
         {"status": "Rejected"}),
        ("UnlockConnector", {"connectorId": 2},
         lambda **kw: DEFAULT_RESPONSES["UnlockConnector"]().__class__(status="NotSupported"),
         {"status": "NotSupported"}),
        ("GetConfiguration", {},
         lambda **kw: DEFAULT_RESPONSES["GetConfiguration"]().__class__(configuration_key=[]),
         {"configurationKey": []}),
        ("DataTransfer", {"vendorId": "com.other"},
         lambda **kw: DEFAULT_RESPONSES["DataTransfer"]().__class__(status="UnknownVendorId"),
         {"status": "UnknownVendorId"}),
    ],
    ids=["Reset-Rejected", "Unlock-NotSupported", "GetConfiguration-all", "DataTransfer-UnknownVendor"],
)
async def test_csms_call_other_answers(bridge, api, cp_id, action, payload, answer, expected):
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)
        cp.behaviour[action] = answer
        status, body = await api.call(cp_id, action, payload)
        assert status == 200, body
        assert body["result"] == expected, body
        seen = await cp.wait_received(action, timeout=1)
        assert normalize(seen) == normalize(camel_to_snake_case(payload)), seen


async def test_concurrent_rest_calls_are_serialized(bridge, api, cp_id):
    """OCPP-J 1.6 §4.1.1: one outstanding CALL per direction. Two REST calls at once must reach the
    charge point one after the other (the second only after the first was answered)."""
    url = bridge.ws_url(cp_id)
    async with ws_connect(url, subprotocols=[Subprotocol("ocpp1.6")], proxy=None, open_timeout=5) as ws:
        await ws.send(json.dumps([2, "boot-1", "BootNotification", {"chargePointModel": "M", "chargePointVendor": "V"}]))
        boot_answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert boot_answer[0] == 3 and boot_answer[1] == "boot-1", boot_answer

        first = asyncio.create_task(api.call(cp_id, "ClearCache", {}))
        second = asyncio.create_task(api.call(cp_id, "Reset", {"type": "Soft"}))
        frame1 = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame1[0] == 2 and frame1[2] in ("ClearCache", "Reset"), frame1
        # While frame1 is unanswered, nothing else may arrive.
        with pytest.raises(asyncio.TimeoutError):
            extra = await asyncio.wait_for(ws.recv(), 1.0)
            pytest.fail(f"second CALL sent while the first was outstanding: {extra}")
        answer1 = {"ClearCache": {"status": "Accepted"}, "Reset": {"status": "Accepted"}}[frame1[2]]
        await ws.send(json.dumps([3, frame1[1], answer1]))
        frame2 = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame2[0] == 2 and frame2[2] in ("ClearCache", "Reset") and frame2[2] != frame1[2], frame2
        assert frame2[1] != frame1[1], "message ids must be unique per connection"
        answer2 = {"ClearCache": {"status": "Accepted"}, "Reset": {"status": "Rejected"}}[frame2[2]]
        await ws.send(json.dumps([3, frame2[1], answer2]))

        (s1, b1), (s2, b2) = await asyncio.wait_for(asyncio.gather(first, second), 10)
        assert s1 == 200 and b1 == {"result": {"status": "Accepted"}}, b1
        assert s2 == 200 and b2["result"]["status"] in ("Accepted", "Rejected"), b2
