"""Every CSMS-initiated OCPP 2.0.1 message, issued through `POST /api/chargepoints/{id}/calls/{Action}` and
answered by the PyPI `ocpp` library's v201 charging station (which validates the bridge's CALLs against the
official 2.0.1 JSON schemas before its handler runs); the version-neutral operations of docs/ocpp201.md in
both directions; and the generic command tags with a 2.0.1 charging station (TriggerMessage through tags
for both versions is in test_command_tags.py)."""

from __future__ import annotations

import asyncio
import json

import pytest
from ocpp.charge_point import camel_to_snake_case
from ocpp.exceptions import NotSupportedError
from ocpp.v201 import call_result

from conftest import (
    assert_call_through_rest, boot16, charge_point, next_request_number, normalize, put_ok,
)
from v201 import CSMS_ACTIONS_201, boot201, cp201, expected_result, text_value


TX_PROFILE = {
    "id": 1,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
                          "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}],
}

DEFAULT_PROFILE = {
    "id": 3,
    "stackLevel": 1,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Recurring",
    "recurrencyKind": "Daily",
    "validFrom": "2030-01-01T00:00:00Z",
    "validTo": "2031-01-01T00:00:00.500Z",
    "chargingSchedule": [{
        "id": 2,
        "duration": 86400,
        "startSchedule": "2030-01-01T00:00:00Z",
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
            {"startPeriod": 3600, "limit": 7400.5},
        ],
        "minChargingRate": 1000.0,
    }],
}

# Action -> the 2.0.1 request payload sent through REST (OCPP camelCase keys).
REQUESTS = {
    "GetVariables": {"getVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
        {"component": {"name": "Connector", "instance": "A"}, "variable": {"name": "Power", "instance": "Max"},
         "attributeType": "Actual"},
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "NoSuchVariable"}},
    ]},
    "SetVariables": {"setVariableData": [
        {"attributeValue": "60", "attributeType": "Actual", "component": {"name": "OCPPCommCtrlr"},
         "variable": {"name": "HeartbeatInterval"}},
    ]},
    "GetBaseReport": {"requestId": 1, "reportBase": "FullInventory"},
    "GetReport": {"requestId": 2, "componentCriteria": ["Available"],
                  "componentVariable": [{"component": {"name": "EVSE", "evse": {"id": 1}},
                                         "variable": {"name": "AvailabilityState"}}]},
    "Reset": {"type": "OnIdle", "evseId": 1},
    "ClearCache": {},
    "GetLocalListVersion": {},
    "SendLocalList": {
        "versionNumber": 8,
        "updateType": "Full",
        "localAuthorizationList": [
            {"idToken": {"idToken": "TAG1", "type": "ISO14443"},
             "idTokenInfo": {"status": "Accepted", "cacheExpiryDateTime": "2031-01-01T00:00:00Z",
                             "groupIdToken": {"idToken": "FLEET", "type": "Central"}}},
            {"idToken": {"idToken": "TAG2", "type": "ISO14443"}, "idTokenInfo": {"status": "Blocked"}},
        ],
    },
    "GetTransactionStatus": {"transactionId": "tx-status-1"},
    "RequestStartTransaction": {"idToken": {"idToken": "REMOTE1", "type": "Central"}, "remoteStartId": 42,
                                "evseId": 1, "chargingProfile": TX_PROFILE},
    "RequestStopTransaction": {"transactionId": "tx-stop-1"},
    "TriggerMessage": {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}},
    "UnlockConnector": {"evseId": 1, "connectorId": 1},
    "ChangeAvailability": {"operationalStatus": "Inoperative", "evse": {"id": 1}},
    "ReserveNow": {"id": 5, "expiryDateTime": "2030-01-01T00:00:00Z",
                   "idToken": {"idToken": "RES1", "type": "ISO14443"}, "evseId": 1,
                   "groupIdToken": {"idToken": "FLEET", "type": "Central"}},
    "CancelReservation": {"reservationId": 5},
    "SetChargingProfile": {"evseId": 0, "chargingProfile": DEFAULT_PROFILE},
    "ClearChargingProfile": {"chargingProfileId": 3,
                             "chargingProfileCriteria": {"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile",
                                                         "stackLevel": 1}},
    "GetChargingProfiles": {"requestId": 3, "evseId": 1,
                            "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1}},
    "GetCompositeSchedule": {"duration": 3600, "evseId": 1, "chargingRateUnit": "A"},
    "UpdateFirmware": {"requestId": 4, "retries": 1, "retryInterval": 60,
                       "firmware": {"location": "https://fw.example.com/fw-2.0.bin",
                                    "retrieveDateTime": "2030-01-01T00:00:00Z"}},
    "GetLog": {"logType": "DiagnosticsLog", "requestId": 5, "retries": 2, "retryInterval": 30,
               "log": {"remoteLocation": "ftp://logs.example.com/upload", "oldestTimestamp": "2030-01-01T00:00:00Z"}},
    "DataTransfer": {"vendorId": "com.example.interop", "messageId": "cfg", "data": {"a": [1, 2]}},
}

assert set(REQUESTS) == set(CSMS_ACTIONS_201)


@pytest.mark.parametrize("action", CSMS_ACTIONS_201)
async def test_csms_call_through_rest(bridge, api, cp_id, action):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        await assert_call_through_rest(api, cp, cp_id, action, REQUESTS[action], expected_result(action))


async def test_get_variables_results_land_in_tags(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        status, body = await api.call(cp_id, "GetVariables", REQUESTS["GetVariables"])
        assert status == 200, body
        await api.wait_tag(f"{cp_id}.Variables.OCPPCommCtrlr.HeartbeatInterval", text_value("300"))
        await api.wait_tag(f"{cp_id}.Variables.Connector.A.Power.Max", text_value("22000"))
        # Only accepted results are written.
        assert await api.aget_tag(f"{cp_id}.Variables.OCPPCommCtrlr.NoSuchVariable") is None

        # A later answer updates the tag.
        cp.behaviour["GetVariables"] = lambda **kw: call_result.GetVariables(get_variable_result=[
            {"attribute_status": "Accepted", "attribute_value": "60", "component": {"name": "OCPPCommCtrlr"},
             "variable": {"name": "HeartbeatInterval"}}])
        status, body = await api.call(cp_id, "GetVariables", {"getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]})
        assert status == 200, body
        await api.wait_tag(f"{cp_id}.Variables.OCPPCommCtrlr.HeartbeatInterval", text_value("60"))


async def test_csms_call_callerror_is_502(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)

        def refuse(**kwargs):
            raise NotSupportedError(description="no reset today")

        cp.behaviour["Reset"] = refuse
        status, body = await api.call(cp_id, "Reset", {"type": "Immediate"})
        assert status == 502, body
        assert body["error"]["code"] == "NotSupported", body


# ------------------------------------------------------------------------------------------
# Version-neutral operations: 1.6 names and payloads to a 2.0.1 charging station
# ------------------------------------------------------------------------------------------

# (REST action, 1.6 payload, the 2.0.1 action the station gets, what it gets (snake_case, the library's kwargs))
TRANSLATIONS = [
    ("RemoteStopTransaction", {"transactionId": "tx-station-7"}, "RequestStopTransaction",
     {"transaction_id": "tx-station-7"}),
    ("Reset", {"type": "Hard"}, "Reset", {"type": "Immediate"}),
    ("Reset", {"type": "Soft"}, "Reset", {"type": "OnIdle"}),
    ("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}, "ChangeAvailability",
     {"operational_status": "Inoperative", "evse": {"id": 1}}),
    ("ChangeAvailability", {"connectorId": 0, "type": "Operative"}, "ChangeAvailability",
     {"operational_status": "Operative"}),
    ("UnlockConnector", {"connectorId": 2}, "UnlockConnector", {"evse_id": 2, "connector_id": 1}),
    ("TriggerMessage", {"requestedMessage": "DiagnosticsStatusNotification"}, "TriggerMessage",
     {"requested_message": "LogStatusNotification"}),
    ("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 2}, "TriggerMessage",
     {"requested_message": "StatusNotification", "evse": {"id": 2, "connector_id": 1}}),
    ("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1}, "TriggerMessage",
     {"requested_message": "MeterValues", "evse": {"id": 1}}),
]


@pytest.mark.parametrize("rest_action,payload,cp_action,expected", TRANSLATIONS,
                         ids=[f"{a}-{i}" for i, (a, *_rest) in enumerate(TRANSLATIONS)])
async def test_16_operation_is_translated_for_a_201_station(bridge, api, cp_id, rest_action, payload, cp_action,
                                                            expected):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        status, body = await api.call(cp_id, rest_action, payload)
        assert status == 200, body
        # The answer is passed back as the station sent it.
        assert normalize(body["result"]) == normalize(expected_result(cp_action)), body
        seen = await cp.wait_received(cp_action, timeout=1)
        assert seen == expected, seen
        assert [a for a, _ in cp.received] == [cp_action]


async def test_remote_start_is_translated_for_a_201_station(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        status, body = await api.call(cp_id, "RemoteStartTransaction", {"idTag": "X", "connectorId": 1})
        assert status == 200, body
        assert body["result"] == expected_result("RequestStartTransaction"), body
        seen = await cp.wait_received("RequestStartTransaction", timeout=1)
        assert seen["id_token"] == {"id_token": "X", "type": "Central"}, seen
        assert seen["evse_id"] == 1, seen
        assert isinstance(seen.get("remote_start_id"), int) and not isinstance(seen["remote_start_id"], bool), seen
        assert set(seen) == {"id_token", "evse_id", "remote_start_id"}, seen

        # Another remote start gets its own remoteStartId.
        status, body = await api.call(cp_id, "RemoteStartTransaction", {"idTag": "Y", "connectorId": 2})
        assert status == 200, body
        second = await cp.wait_received("RequestStartTransaction", timeout=1, count=2)
        assert second["id_token"] == {"id_token": "Y", "type": "Central"} and second["evse_id"] == 2, second
        assert second["remote_start_id"] != seen["remote_start_id"], (seen, second)


INVALID_201 = [
    ("GetVariables", {}),                                                              # missing getVariableData
    ("SetVariables", {"setVariableData": [{"attributeValue": "1", "component": {"name": "X"}}]}),  # no variable
    ("Reset", {"type": "Sideways"}),                                                   # in neither version's enum
    ("RequestStartTransaction", {"idToken": {"idToken": "X", "type": "Central"}}),     # missing remoteStartId
    ("GetLog", {"logType": "Everything", "requestId": 1, "log": {"remoteLocation": "ftp://x"}}),  # enum
    ("ChangeAvailability", {"operationalStatus": "Inoperative", "extra": 1}),          # additionalProperties
    ("GetCompositeSchedule", {"duration": "long", "evseId": 1}),                       # wrong type
    ("RequestStopTransaction", {"transactionId": "T" * 37}),                           # identifierString 36
]


@pytest.mark.parametrize("action,payload", INVALID_201, ids=[f"{a}-{i}" for i, (a, _) in enumerate(INVALID_201)])
async def test_invalid_201_payload_is_400_and_nothing_is_sent(bridge, api, cp_id, action, payload):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        status, body = await api.call(cp_id, action, payload)
        assert status == 400, body
        await asyncio.sleep(0.3)
        assert cp.received == [], f"the station received {cp.received}"
        status, body = await api.call(cp_id, "ClearCache", {})
        assert status == 200, body


@pytest.mark.parametrize("action,payload", [
    ("GetConfiguration", {"key": ["HeartbeatInterval"]}),
    ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}),
    ("GetDiagnostics", {"location": "ftp://diag.example.com/upload"}),
])
async def test_16_only_action_to_a_201_station_is_400(bridge, api, cp_id, action, payload):
    """No translation for these (docs/ocpp201.md: everything else is version-specific)."""
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        status, body = await api.call(cp_id, action, payload)
        assert status == 400, (status, body)
        await asyncio.sleep(0.3)
        assert cp.received == [], cp.received


# ------------------------------------------------------------------------------------------
# 2.0.1 names to a 1.6 charge point
# ------------------------------------------------------------------------------------------

async def test_201_only_action_to_a_16_charge_point_is_400(bridge, api, cp_id):
    """docs/rest-api.md: an action unknown for the charge point is 400, nothing is sent."""
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)
        status, body = await api.call(cp_id, "GetVariables", REQUESTS["GetVariables"])
        assert status == 400, (status, body)
        await asyncio.sleep(0.3)
        assert cp.received == [], cp.received


async def test_request_start_to_a_16_charge_point_is_remote_start(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)
        status, body = await api.call(cp_id, "RequestStartTransaction", {
            "idToken": {"idToken": "X", "type": "Central"}, "remoteStartId": 5, "evseId": 1})
        assert status == 200, body
        assert body["result"] == {"status": "Accepted"}, body
        seen = await cp.wait_received("RemoteStartTransaction", timeout=1)
        assert seen == {"id_tag": "X", "connector_id": 1}, seen
        assert [a for a, _ in cp.received] == ["RemoteStartTransaction"]


async def test_request_stop_to_a_16_charge_point_is_remote_stop(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot16(cp)
        status, body = await api.call(cp_id, "RequestStopTransaction", {"transactionId": "12"})
        assert status == 200, body
        assert body["result"] == {"status": "Accepted"}, body
        seen = await cp.wait_received("RemoteStopTransaction", timeout=1)
        assert seen == {"transaction_id": 12}, seen


# ------------------------------------------------------------------------------------------
# Command tags with a 2.0.1 charging station (TriggerMessage: test_command_tags.py, both versions)
# ------------------------------------------------------------------------------------------

async def test_generic_command_with_a_201_action(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        payload = {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                        "variable": {"name": "HeartbeatInterval"}}]}
        await put_ok(api, f"{cp_id}.Command.Action", "GetVariables")
        await put_ok(api, f"{cp_id}.Command.Payload", json.dumps(payload))
        n = await next_request_number(api, f"{cp_id}.Command.Request")
        await put_ok(api, f"{cp_id}.Command.Request", n)

        seen = await cp.wait_received("GetVariables", timeout=5)
        assert seen == camel_to_snake_case(payload), seen
        await api.wait_tag(f"{cp_id}.Command.Response", n)
        result = await api.aget_tag(f"{cp_id}.Command.Result")
        assert result is not None and isinstance(result["value"], str), result
        assert json.loads(result["value"]) == expected_result("GetVariables"), result
        error = await api.aget_tag(f"{cp_id}.Command.Error")
        assert error is None or error["value"] in (None, ""), error
        await api.wait_tag(f"{cp_id}.Variables.OCPPCommCtrlr.HeartbeatInterval", text_value("300"))
