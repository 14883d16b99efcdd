"""OCPP 2.0.1 helpers for the interop suite: a PyPI `ocpp` v201 ChargePoint that records every CALL the
bridge sends and answers each CSMS-initiated action with a schema-valid result, payload builders, and raw
OCPP-J frame helpers. The library validates every payload (both directions) against the official
OCPP 2.0.1 JSON schemas."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import re
import time
from datetime import datetime, timezone
from typing import Any, Callable

from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.routing import on
from ocpp.v201 import ChargePoint as _V201ChargePoint
from ocpp.v201 import call, call_result
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

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


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class V201ChargePoint(_V201ChargePoint):
    """A v201 charging station recording every CALL it receives. Per-action behaviour can be overridden
    with `cp.behaviour[action] = async-or-sync callable(**kwargs) -> call_result | raises`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict]] = []
        self._received_event = asyncio.Event()
        self.behaviour: dict[str, Callable[..., Any]] = {}

    async def _answer(self, action: str, kwargs: dict):
        self.received.append((action, kwargs))
        self._received_event.set()
        fn = self.behaviour.get(action)
        if fn is None:
            return DEFAULT_RESPONSES_201[action]()
        result = fn(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def wait_received(self, action: str, timeout: float = 5.0, count: int = 1) -> dict:
        """Waits until `count` CALLs of `action` arrived; returns the last one's kwargs (snake_case)."""
        deadline = time.monotonic() + timeout
        while True:
            matching = [kw for a, kw in self.received if a == action]
            if len(matching) >= count:
                return matching[count - 1]
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"charging station {self.id} did not receive {action} within {timeout}s; "
                    f"received: {[a for a, _ in self.received]}"
                )
            self._received_event.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._received_event.wait(), left)


def _make_handler(action: str):
    async def handler(self, **kwargs):
        return await self._answer(action, kwargs)

    handler.__name__ = f"on_{_snake(action)}"
    return on(action)(handler)


for _action in CSMS_ACTIONS_201:
    setattr(V201ChargePoint, f"on_{_snake(_action)}", _make_handler(_action))


# --------------------------------------------------------------------------------------------
# Payload helpers
# --------------------------------------------------------------------------------------------

def utcnow() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    assert isinstance(text, str), f"not a time string: {text!r}"
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert t.tzinfo is not None, f"time without a zone: {text!r}"
    return t


def assert_recent(text: str, seconds: float = 120):
    t = parse_time(text)
    delta = abs((datetime.now(timezone.utc) - t).total_seconds())
    assert delta < seconds, f"{text!r} is {delta:.0f}s away from now"


def normalize(value):
    """Compares payloads by meaning: RFC 3339 strings as instants, numbers by value."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def as_camel(result) -> dict:
    """A call_result dataclass as the JSON object the library puts on the wire."""
    return snake_to_camel_case(remove_nones(serialize_as_dict(result)))


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
# Raw OCPP-J over a plain websockets connection
# --------------------------------------------------------------------------------------------

@contextlib.asynccontextmanager
async def raw_ws(bridge, segment: str, subprotocols=(OCPP201,)):
    kwargs = {"proxy": None, "open_timeout": 5, "close_timeout": 2}
    if subprotocols is not None:
        kwargs["subprotocols"] = [Subprotocol(s) for s in subprotocols]
    ws = await asyncio.wait_for(ws_connect(bridge.ws_url(segment), **kwargs), 10)
    try:
        yield ws
    finally:
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(ws.close(), 3)


async def exchange(ws, frame) -> list:
    await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
    text = await asyncio.wait_for(ws.recv(), 5)
    msg = json.loads(text)
    assert isinstance(msg, list), text
    return msg


def assert_call_error(msg, msg_id, codes):
    """`codes`: one code or a collection of acceptable ones. 1.6's spelling is never acceptable."""
    codes = {codes} if isinstance(codes, str) else set(codes)
    assert len(msg) == 5, msg
    assert msg[0] == 4, msg
    if msg_id is not None:
        assert msg[1] == msg_id, msg
    assert msg[2] != "FormationViolation", f"1.6's code sent to a 2.0.1 charging station: {msg}"
    assert msg[2] in codes, f"expected one of {sorted(codes)}: {msg}"
    assert isinstance(msg[3], str), msg
    assert isinstance(msg[4], dict), msg
