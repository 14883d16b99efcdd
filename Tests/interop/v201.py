"""OCPP 2.0.1 helpers for the interop suite: a PyPI `ocpp` v201 ChargePoint that records every CALL the
bridge sends and answers each CSMS-initiated action with a schema-valid result, payload builders, and the
2.0.1 defaults of conftest's raw OCPP-J frame helpers. The library validates every payload (both
directions) against the official OCPP 2.0.1 JSON schemas. The version-independent helpers (times, payload
comparison, raw frames, command tags) live in conftest.py."""

from __future__ import annotations

from typing import Any, Callable

from ocpp.v201 import ChargePoint as _V201ChargePoint
from ocpp.v201 import call, call_result

import conftest
from conftest import RecordingChargePoint, answer_actions, as_camel, charge_point, utcnow

OCPP201 = "ocpp2.0.1"

# Every CSMS-initiated 2.0.1 action of issue #5 item 6.
CSMS_ACTIONS_201 = [
    "GetVariables", "SetVariables", "GetBaseReport", "GetReport", "Reset", "ClearCache", "GetLocalListVersion",
    "SendLocalList", "GetTransactionStatus", "RequestStartTransaction", "RequestStopTransaction", "TriggerMessage",
    "UnlockConnector", "ChangeAvailability", "ReserveNow", "CancelReservation", "SetChargingProfile",
    "ClearChargingProfile", "GetChargingProfiles", "GetCompositeSchedule", "UpdateFirmware", "GetLog",
    "DataTransfer",
]

# What the test charging station answers by default (snake_case; the library converts to camelCase).
DEFAULT_RESPONSES_201: dict[str, Callable[[], Any]] = {
    "GetVariables": lambda: call_result.GetVariables(get_variable_result=[
        {"attribute_status": "Accepted", "attribute_value": "300",
         "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
        {"attribute_status": "Accepted", "attribute_value": "22000",
         "component": {"name": "Connector", "instance": "A"}, "variable": {"name": "Power", "instance": "Max"}},
        {"attribute_status": "UnknownVariable",
         "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "NoSuchVariable"}},
    ]),
    "SetVariables": lambda: call_result.SetVariables(set_variable_result=[
        {"attribute_status": "Accepted", "component": {"name": "OCPPCommCtrlr"},
         "variable": {"name": "HeartbeatInterval"}},
    ]),
    "GetBaseReport": lambda: call_result.GetBaseReport(status="Accepted"),
    "GetReport": lambda: call_result.GetReport(status="Accepted"),
    "Reset": lambda: call_result.Reset(status="Accepted"),
    "ClearCache": lambda: call_result.ClearCache(status="Accepted"),
    "GetLocalListVersion": lambda: call_result.GetLocalListVersion(version_number=7),
    "SendLocalList": lambda: call_result.SendLocalList(status="Accepted"),
    "GetTransactionStatus": lambda: call_result.GetTransactionStatus(messages_in_queue=False, ongoing_indicator=True),
    "RequestStartTransaction": lambda: call_result.RequestStartTransaction(status="Accepted",
                                                                           transaction_id="tx-remote-1"),
    "RequestStopTransaction": lambda: call_result.RequestStopTransaction(status="Accepted"),
    "TriggerMessage": lambda: call_result.TriggerMessage(status="Accepted"),
    "UnlockConnector": lambda: call_result.UnlockConnector(status="Unlocked"),
    "ChangeAvailability": lambda: call_result.ChangeAvailability(status="Accepted"),
    "ReserveNow": lambda: call_result.ReserveNow(status="Accepted"),
    "CancelReservation": lambda: call_result.CancelReservation(status="Accepted"),
    "SetChargingProfile": lambda: call_result.SetChargingProfile(status="Accepted"),
    "ClearChargingProfile": lambda: call_result.ClearChargingProfile(status="Accepted"),
    "GetChargingProfiles": lambda: call_result.GetChargingProfiles(status="Accepted"),
    "GetCompositeSchedule": lambda: call_result.GetCompositeSchedule(
        status="Accepted",
        schedule={
            "evse_id": 1,
            "duration": 3600,
            "schedule_start": "2030-01-01T00:00:00Z",
            "charging_rate_unit": "A",
            "charging_schedule_period": [
                {"start_period": 0, "limit": 16.0},
                {"start_period": 1800, "limit": 10.0, "number_phases": 3},
            ],
        },
    ),
    "UpdateFirmware": lambda: call_result.UpdateFirmware(status="Accepted"),
    "GetLog": lambda: call_result.GetLog(status="Accepted", filename="log-0001.zip"),
    "DataTransfer": lambda: call_result.DataTransfer(status="Accepted", data={"echo": ["cp", 1]}),
}

assert set(DEFAULT_RESPONSES_201) == set(CSMS_ACTIONS_201)


class V201ChargePoint(RecordingChargePoint, _V201ChargePoint):
    """A v201 charging station recording every CALL it receives and answering the 2.0.1 CSMS actions
    (conftest.RecordingChargePoint)."""

    responses = DEFAULT_RESPONSES_201
    noun = "charging station"


answer_actions(V201ChargePoint, CSMS_ACTIONS_201)


def cp201(bridge, cp_id, subprotocols=(OCPP201,)):
    """conftest.charge_point with a V201ChargePoint offering 2.0.1."""
    return charge_point(bridge, cp_id, cls=V201ChargePoint, subprotocols=subprotocols)


# --------------------------------------------------------------------------------------------
# Payload helpers
# --------------------------------------------------------------------------------------------

def expected_result(action: str) -> dict:
    return as_camel(DEFAULT_RESPONSES_201[action]())


def text_value(expected: str) -> Callable[[Any], bool]:
    """A wait_tag predicate for a device-model value: the text itself, or the same number."""
    def check(value):
        if value == expected:
            return True
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return float(value) == float(expected)
            except ValueError:
                return False
        return False
    return check


def id_token(token: str, type_: str = "ISO14443") -> dict:
    return {"id_token": token, "type": type_}


def energy(wh: float, context: str | None = None, ts: str | None = None) -> dict:
    """One MeterValue with an Energy.Active.Import.Register sample in Wh."""
    sample = {"value": wh, "measurand": "Energy.Active.Import.Register", "unit_of_measure": {"unit": "Wh"}}
    if context:
        sample["context"] = context
    return {"timestamp": ts or utcnow(), "sampled_value": [sample]}


async def boot201(cp, reason: str = "PowerUp", **station):
    fields = {"vendor_name": "InteropVendor201", "model": "Model201", "serial_number": "SN-201",
              "firmware_version": "2.0.1-fw"}
    fields.update(station)
    return await cp.call(call.BootNotification(charging_station=fields, reason=reason), suppress=False)


async def transaction_event(cp, event_type: str, tx_id: str, seq_no: int, trigger_reason: str, *,
                            evse_id: int | None = None, token: dict | None = None,
                            meter_value: list | None = None, timestamp: str | None = None, **info):
    """Sends a TransactionEvent; `info` goes into transactionInfo (snake_case keys)."""
    return await cp.call(
        call.TransactionEvent(
            event_type=event_type,
            timestamp=timestamp or utcnow(),
            trigger_reason=trigger_reason,
            seq_no=seq_no,
            transaction_info={"transaction_id": tx_id, **info},
            evse={"id": evse_id, "connector_id": 1} if evse_id is not None else None,
            id_token=token,
            meter_value=meter_value,
        ),
        suppress=False,
    )


# --------------------------------------------------------------------------------------------
# Raw OCPP-J over a plain websockets connection: conftest's helpers with 2.0.1 defaults
# --------------------------------------------------------------------------------------------

def raw_ws(bridge, segment: str, subprotocols=(OCPP201,)):
    """conftest.raw_ws offering 2.0.1 by default."""
    return conftest.raw_ws(bridge, segment, subprotocols)


def assert_call_error(msg, msg_id, codes):
    """conftest.assert_call_error; `codes`: one code or a collection of acceptable ones. 1.6's spelling is
    never acceptable."""
    assert msg[2:3] != ["FormationViolation"], f"1.6's code sent to a 2.0.1 charging station: {msg}"
    conftest.assert_call_error(msg, msg_id, codes)
