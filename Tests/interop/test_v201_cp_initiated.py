"""Every charge-point-initiated OCPP 2.0.1 message, sent by the PyPI `ocpp` library's v201 ChargePoint
(which validates the bridge's answers against the official 2.0.1 JSON schemas), the tags each one produces
(docs/ocpp201.md), the 2.0.1 variant of the decision handshake, CALLERROR codes, subprotocol negotiation
and a script deciding a 2.0.1 Authorize."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid

import pytest
from ocpp.v201 import call
from websockets.exceptions import ConnectionClosed

from conftest import (
    DECISION_TIMEOUT, HEARTBEAT_INTERVAL, assert_heartbeat_works, assert_recent, exchange, parse_time, running_bridge,
    same_value, utcnow,
)
from v201 import OCPP201, assert_call_error, boot201, cp201, energy, id_token, raw_ws, transaction_event


def new_tx_id() -> str:
    return "tx-" + uuid.uuid4().hex[:12]


def status_of(result) -> str | None:
    info = getattr(result, "id_token_info", None)
    return None if info is None else info.get("status")


def stored_transactions(bridge, cp_id: str, station_tx_id: str) -> list[dict]:
    """The `transactions` rows of a 2.0.1 transaction, read from the bridge's SQLite file."""
    db = sqlite3.connect(f"file:{bridge.workdir / 'bridge.sqlite'}?mode=ro", uri=True, timeout=5)
    try:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT * FROM transactions WHERE charge_point = ? AND station_transaction_id = ?",
            (cp_id, station_tx_id),
        ).fetchall()
        return [dict(r) for r in rows]
    finally:
        db.close()


# ------------------------------------------------------------------------------------------
# BootNotification, Heartbeat, StatusNotification, MeterValues, NotifyReport
# ------------------------------------------------------------------------------------------

async def test_boot_notification(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        assert cp.ws.subprotocol == OCPP201
        result = await boot201(cp)
        assert result.status == "Accepted", result
        assert result.interval == HEARTBEAT_INTERVAL, result
        assert_recent(result.current_time)

        await api.wait_tag(f"{cp_id}.Boot.Vendor", "InteropVendor201")
        await api.wait_tag(f"{cp_id}.Boot.Model", "Model201")
        await api.wait_tag(f"{cp_id}.Boot.SerialNumber", "SN-201")
        await api.wait_tag(f"{cp_id}.Boot.FirmwareVersion", "2.0.1-fw")
        await api.wait_tag(f"{cp_id}.Boot.Reason", "PowerUp")
        await api.wait_tag(f"{cp_id}.Online", True)
        await api.wait_tag(f"{cp_id}.Protocol", "ocpp2.0.1")
        assert_recent((await api.wait_tag(f"{cp_id}.LastSeen"))["value"])

        status, body = await api.chargepoint(cp_id)
        assert status == 200, body
        assert body["id"] == cp_id and body["online"] is True, body
        assert body["protocol"] == "ocpp2.0.1", body


async def test_heartbeat(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        result = await cp.call(call.Heartbeat(), suppress=False)
        assert_recent(result.current_time)
        assert_recent((await api.wait_tag(f"{cp_id}.Heartbeat.Last"))["value"])


async def test_status_notification(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        await cp.call(call.StatusNotification(timestamp=utcnow(), connector_status="Occupied", evse_id=1,
                                              connector_id=1), suppress=False)
        await api.wait_tag(f"{cp_id}.Connector1.Status", "Occupied")
        await cp.call(call.StatusNotification(timestamp=utcnow(), connector_status="Faulted", evse_id=2,
                                              connector_id=1), suppress=False)
        await api.wait_tag(f"{cp_id}.Connector2.Status", "Faulted")
        await cp.call(call.StatusNotification(timestamp=utcnow(), connector_status="Available", evse_id=1,
                                              connector_id=1), suppress=False)
        await api.wait_tag(f"{cp_id}.Connector1.Status", "Available")


async def test_meter_values(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        await cp.call(
            call.MeterValues(
                evse_id=1,
                meter_value=[{
                    "timestamp": utcnow(),
                    "sampled_value": [
                        {"value": 12345.5, "measurand": "Energy.Active.Import.Register",
                         "unit_of_measure": {"unit": "Wh"}, "context": "Sample.Periodic"},
                        {"value": 7200, "measurand": "Power.Active.Import", "unit_of_measure": {"unit": "W"}},
                        {"value": 230.1, "measurand": "Voltage", "phase": "L1-N", "unit_of_measure": {"unit": "V"}},
                        {"value": 16.0, "measurand": "Current.Import", "phase": "L1",
                         "unit_of_measure": {"unit": "A"}},
                        {"value": 15.5, "measurand": "Current.Import", "phase": "L2",
                         "unit_of_measure": {"unit": "A"}},
                    ],
                }],
            ),
            suppress=False,
        )
        e = await api.wait_tag(f"{cp_id}.Connector1.Meter.Energy.Active.Import.Register", 12345.5)
        assert e.get("unit") == "Wh", e
        assert e["writable"] is False, e
        p = await api.wait_tag(f"{cp_id}.Connector1.Meter.Power.Active.Import", 7200)
        assert p.get("unit") == "W", p
        v = await api.wait_tag(f"{cp_id}.Connector1.Meter.Voltage.L1-N", 230.1)
        assert v.get("unit") == "V", v
        l1 = await api.wait_tag(f"{cp_id}.Connector1.Meter.Current.Import.L1", 16.0)
        assert l1.get("unit") == "A", l1
        await api.wait_tag(f"{cp_id}.Connector1.Meter.Current.Import.L2", 15.5)


async def test_meter_values_defaults_measurand_and_unit(bridge, api, cp_id):
    """A sampled value without measurand nor unitOfMeasure is Energy.Active.Import.Register in Wh."""
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        await cp.call(call.MeterValues(evse_id=2, meter_value=[{"timestamp": utcnow(),
                                                                 "sampled_value": [{"value": 500}]}]),
                      suppress=False)
        tag = await api.wait_tag(f"{cp_id}.Connector2.Meter.Energy.Active.Import.Register", 500)
        assert tag.get("unit") == "Wh", tag


async def test_notify_report_writes_variables(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        await cp.call(
            call.NotifyReport(
                request_id=1, generated_at=utcnow(), seq_no=0, tbc=False,
                report_data=[
                    {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
                     "variable_attribute": [{"type": "Actual", "value": "300", "mutability": "ReadWrite"},
                                            {"type": "Target", "value": "600"}],
                     "variable_characteristics": {"data_type": "integer", "supports_monitoring": False}},
                    {"component": {"name": "Connector", "instance": "A", "evse": {"id": 1, "connector_id": 1}},
                     "variable": {"name": "Power", "instance": "Max"},
                     "variable_attribute": [{"value": "22000"}]},  # type defaults to Actual
                    {"component": {"name": "AuthCtrlr"}, "variable": {"name": "Enabled"},
                     "variable_attribute": [{"type": "Target", "value": "true"}]},  # no Actual: no tag
                ],
            ),
            suppress=False,
        )
        hb = await api.wait_tag(f"{cp_id}.Variables.OCPPCommCtrlr.HeartbeatInterval")
        assert hb["value"] in ("300", 300), hb  # the Actual value, not the Target
        power = await api.wait_tag(f"{cp_id}.Variables.Connector.A.Power.Max")
        assert power["value"] in ("22000", 22000), power
        assert await api.aget_tag(f"{cp_id}.Variables.AuthCtrlr.Enabled") is None


# ------------------------------------------------------------------------------------------
# Authorize: the 2.0.1 variant of the handshake
# ------------------------------------------------------------------------------------------

async def test_authorize_decided_through_rest_tags(bridge, api, cp_id):
    """The decider (here: the test, through PUT /api/tags) writes .Status, the optional parts, then
    .Response = .Request; the answer is an idTokenInfo."""
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        before = await api.aget_tag(f"{cp_id}.Authorize.Request")
        previous = before["value"] if before and isinstance(before["value"], int) else 0
        pending = asyncio.create_task(cp.call(call.Authorize(id_token=id_token("MANUAL1")), suppress=False))
        try:
            request = await api.wait_tag(f"{cp_id}.Authorize.Request",
                                         lambda v: isinstance(v, int) and not isinstance(v, bool) and v > previous)
            number = request["value"]
            assert (await api.aget_tag(f"{cp_id}.Authorize.IdTag"))["value"] == "MANUAL1"
            assert (await api.aget_tag(f"{cp_id}.Authorize.IdTokenType"))["value"] == "ISO14443"
            for name, value in [("Status", "Accepted"), ("ExpiryDate", "2031-01-01T00:00:00Z"),
                                ("ParentIdTag", "FLEET-GROUP"), ("Response", number)]:
                code, body = await api.aput_tag(f"{cp_id}.Authorize.{name}", value)
                assert code == 200, (name, code, body)
            result = await asyncio.wait_for(pending, DECISION_TIMEOUT + 3)
        finally:
            pending.cancel()
        info = result.id_token_info
        assert info["status"] == "Accepted", result
        assert parse_time(info["cache_expiry_date_time"]) == parse_time("2031-01-01T00:00:00Z"), info
        assert info["group_id_token"] == {"id_token": "FLEET-GROUP", "type": "Central"}, info
        await api.wait_tag(f"{cp_id}.Authorize.LastIdTag", "MANUAL1")
        await api.wait_tag(f"{cp_id}.Authorize.LastStatus", "Accepted")


async def test_authorize_via_scada(bridge, api, scada, cp_id):
    scada.serve(cp_id, Authorize=lambda f: ("NotAtThisTime", {}) if f.get("IdTag") == "LATE1"
                else ("Blocked", {}) if str(f.get("IdTag")).startswith("BLOCKED") else ("Accepted", {}))
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        ok = await cp.call(call.Authorize(id_token=id_token("GOOD1", "eMAID")), suppress=False)
        assert status_of(ok) == "Accepted", (ok, scada.errors)
        seen = scada.seen[(cp_id, "Authorize")][-1]
        assert seen["IdTag"] == "GOOD1" and seen["IdTokenType"] == "eMAID", seen
        blocked = await cp.call(call.Authorize(id_token=id_token("BLOCKED1")), suppress=False)
        assert status_of(blocked) == "Blocked", blocked
        # A 2.0.1-only AuthorizationStatus is allowed.
        late = await cp.call(call.Authorize(id_token=id_token("LATE1")), suppress=False)
        assert status_of(late) == "NotAtThisTime", late


async def test_authorize_timeout_gives_default_invalid(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        t0 = time.monotonic()
        result = await cp.call(call.Authorize(id_token=id_token("NOBODYANSWERS")), suppress=False)
        elapsed = time.monotonic() - t0
        assert status_of(result) == "Invalid", result
        assert DECISION_TIMEOUT * 0.8 <= elapsed < DECISION_TIMEOUT + 3, elapsed
        await api.wait_tag(f"{cp_id}.Authorize.IdTag", "NOBODYANSWERS")


# ------------------------------------------------------------------------------------------
# TransactionEvent
# ------------------------------------------------------------------------------------------

async def test_transaction_started_with_id_token_is_a_start_decision(bridge, api, scada, cp_id):
    scada.serve(cp_id)
    tx = new_tx_id()
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        result = await transaction_event(cp, "Started", tx, 0, "Authorized", evse_id=1, token=id_token("GOODTAG1"),
                                         meter_value=[energy(1000, "Transaction.Begin")], charging_state="Charging")
        assert status_of(result) == "Accepted", (result, scada.errors)
        seen = scada.seen[(cp_id, "StartTransaction")][-1]
        assert seen["IdTag"] == "GOODTAG1", seen
        assert seen["IdTokenType"] == "ISO14443", seen
        assert same_value(seen["ConnectorId"], 1), seen
        assert same_value(seen["MeterStart"], 1000), seen
        assert seen["TransactionId"] == tx, seen

        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Id", tx)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Active", True)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.IdTag", "GOODTAG1")
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.MeterStart", 1000)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.ChargingState", "Charging")
        assert_recent((await api.wait_tag(f"{cp_id}.Connector1.Transaction.StartTime"))["value"])


async def test_transaction_started_blocked_token(bridge, api, scada, cp_id):
    scada.serve(cp_id)
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        result = await transaction_event(cp, "Started", new_tx_id(), 0, "Authorized", evse_id=1,
                                         token=id_token("BLOCKED9"))
        assert status_of(result) == "Blocked", (result, scada.errors)


async def test_transaction_started_with_id_token_timeout_gives_default_invalid(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        t0 = time.monotonic()
        result = await transaction_event(cp, "Started", new_tx_id(), 0, "Authorized", evse_id=1,
                                         token=id_token("NOBODYANSWERS"))
        elapsed = time.monotonic() - t0
        assert status_of(result) == "Invalid", result
        assert DECISION_TIMEOUT * 0.8 <= elapsed < DECISION_TIMEOUT + 3, elapsed


async def test_transaction_started_without_id_token_is_answered_at_once(bridge, api, cp_id):
    """No idToken: no decision (and no decider here), answered at once after it is stored."""
    tx = new_tx_id()
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        t0 = time.monotonic()
        result = await transaction_event(cp, "Started", tx, 0, "CablePluggedIn", evse_id=2,
                                         charging_state="EVConnected")
        assert time.monotonic() - t0 < DECISION_TIMEOUT * 0.8, "waited for a decision"
        assert result.id_token_info is None or result.id_token_info["status"] == "Accepted", result
        await api.wait_tag(f"{cp_id}.Connector2.Transaction.Id", tx)
        await api.wait_tag(f"{cp_id}.Connector2.Transaction.Active", True)
        await api.wait_tag(f"{cp_id}.Connector2.Transaction.MeterStart", 0)  # no Energy sample: 0
        await api.wait_tag(f"{cp_id}.Connector2.Transaction.ChargingState", "EVConnected")
        request = await api.aget_tag(f"{cp_id}.StartTransaction.Request")
        assert request is None or request["value"] in (None, 0), request  # no decision was asked for
        assert len(stored_transactions(bridge, cp_id, tx)) == 1


async def test_transaction_updated_with_meter_values_then_ended(bridge, api, cp_id):
    tx = new_tx_id()
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        await transaction_event(cp, "Started", tx, 0, "CablePluggedIn", evse_id=1,
                                meter_value=[energy(2000, "Transaction.Begin")], charging_state="EVConnected")
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.MeterStart", 2000)

        # Updated: no evse (only required in the first event), the meter values land on the EVSE's tags.
        t0 = time.monotonic()
        await transaction_event(
            cp, "Updated", tx, 1, "MeterValuePeriodic", charging_state="Charging",
            meter_value=[{"timestamp": utcnow(), "sampled_value": [
                {"value": 2500, "measurand": "Energy.Active.Import.Register", "unit_of_measure": {"unit": "Wh"},
                 "context": "Sample.Periodic"},
                {"value": 7000, "measurand": "Power.Active.Import", "unit_of_measure": {"unit": "W"}},
                {"value": 10.5, "measurand": "Current.Import", "phase": "L3", "unit_of_measure": {"unit": "A"}},
            ]}],
        )
        assert time.monotonic() - t0 < DECISION_TIMEOUT * 0.8
        e = await api.wait_tag(f"{cp_id}.Connector1.Meter.Energy.Active.Import.Register", 2500)
        assert e.get("unit") == "Wh", e
        p = await api.wait_tag(f"{cp_id}.Connector1.Meter.Power.Active.Import", 7000)
        assert p.get("unit") == "W", p
        await api.wait_tag(f"{cp_id}.Connector1.Meter.Current.Import.L3", 10.5)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.ChargingState", "Charging")
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Active", True)

        t0 = time.monotonic()
        await transaction_event(cp, "Ended", tx, 2, "EVDeparted", stopped_reason="EVDisconnected",
                                charging_state="Idle", meter_value=[energy(4321, "Transaction.End")])
        assert time.monotonic() - t0 < DECISION_TIMEOUT * 0.8
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Active", False)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Id", tx)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.MeterStop", 4321)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Reason", "EVDisconnected")
        assert_recent((await api.wait_tag(f"{cp_id}.Connector1.Transaction.StopTime"))["value"])
        rows = stored_transactions(bridge, cp_id, tx)
        assert len(rows) == 1 and rows[0]["meter_stop"] == 4321 and rows[0]["stop_time"], rows


async def test_transaction_ended_without_reason_is_local(bridge, api, cp_id):
    tx = new_tx_id()
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        await transaction_event(cp, "Started", tx, 0, "CablePluggedIn", evse_id=1)
        await transaction_event(cp, "Ended", tx, 1, "StopAuthorized")
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Active", False)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Reason", "Local")


async def test_transaction_updated_with_id_token_is_a_start_decision(bridge, api, scada, cp_id):
    """Plugged in first, identified later: the Updated event that brings the idToken is the decision."""
    scada.serve(cp_id)
    tx = new_tx_id()
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        await transaction_event(cp, "Started", tx, 0, "CablePluggedIn", evse_id=1,
                                meter_value=[energy(100, "Transaction.Begin")])
        result = await transaction_event(cp, "Updated", tx, 1, "Authorized", token=id_token("LATERTAG"),
                                         charging_state="Charging")
        assert status_of(result) == "Accepted", (result, scada.errors)
        seen = scada.seen[(cp_id, "StartTransaction")][-1]
        assert seen["IdTag"] == "LATERTAG" and seen["TransactionId"] == tx, seen
        assert same_value(seen["ConnectorId"], 1), seen
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.IdTag", "LATERTAG")


async def test_transaction_ended_with_id_token_is_a_stop_decision(bridge, api, scada, cp_id):
    scada.serve(cp_id)
    tx = new_tx_id()
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        started = await transaction_event(cp, "Started", tx, 0, "Authorized", evse_id=1,
                                          token=id_token("GOODTAG1"), meter_value=[energy(1000)])
        assert status_of(started) == "Accepted", (started, scada.errors)
        ended = await transaction_event(cp, "Ended", tx, 1, "StopAuthorized", token=id_token("GOODTAG1"),
                                        stopped_reason="Local", meter_value=[energy(3000, "Transaction.End")])
        if ended.id_token_info is not None:
            assert ended.id_token_info["status"] == "Accepted", ended
        seen = scada.seen[(cp_id, "StopTransaction")][-1]
        assert seen["TransactionId"] == tx, seen
        assert seen["IdTag"] == "GOODTAG1", seen
        assert same_value(seen["MeterStop"], 3000), seen
        assert seen["Reason"] == "Local", seen
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Active", False)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.MeterStop", 3000)


async def test_resent_started_event_finds_the_stored_row(bridge, api, cp_id):
    tx = new_tx_id()
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        ts = utcnow()
        for _ in range(2):  # the station never got the first answer and sends the same event again
            await transaction_event(cp, "Started", tx, 0, "CablePluggedIn", evse_id=1, timestamp=ts,
                                    meter_value=[energy(555, "Transaction.Begin", ts)])
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Id", tx)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.MeterStart", 555)
        rows = stored_transactions(bridge, cp_id, tx)
        assert len(rows) == 1, rows
        assert rows[0]["meter_start"] == 555 and rows[0]["connector_id"] == 1, rows


async def test_ended_for_an_unknown_transaction_is_answered_and_stored(bridge, api, cp_id):
    """Its Started event was lost: the Ended event starts (and ends) the row, so that nothing is lost."""
    tx = new_tx_id()
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        t0 = time.monotonic()
        await transaction_event(cp, "Ended", tx, 5, "EVDeparted", evse_id=2, stopped_reason="EVDisconnected",
                                meter_value=[energy(9000, "Transaction.End")])
        assert time.monotonic() - t0 < DECISION_TIMEOUT * 0.8
        await api.wait_tag(f"{cp_id}.Connector2.Transaction.Id", tx)
        await api.wait_tag(f"{cp_id}.Connector2.Transaction.Active", False)
        await api.wait_tag(f"{cp_id}.Connector2.Transaction.MeterStop", 9000)
        await api.wait_tag(f"{cp_id}.Connector2.Transaction.Reason", "EVDisconnected")
        await api.wait_tag(f"{cp_id}.Connector2.Transaction.StopTime")
        rows = stored_transactions(bridge, cp_id, tx)
        assert len(rows) == 1 and rows[0]["stop_time"], rows


# ------------------------------------------------------------------------------------------
# DataTransfer and the notifications
# ------------------------------------------------------------------------------------------

async def test_data_transfer_via_tags(bridge, api, scada, cp_id):
    scada.serve(cp_id)
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        result = await cp.call(call.DataTransfer(vendor_id="com.example.interop", message_id="ping", data="hello"),
                               suppress=False)
        assert result.status == "Accepted", (result, scada.errors)
        assert result.data == "echo:ping:hello", result
        seen = scada.seen[(cp_id, "DataTransfer")][-1]
        assert seen["VendorId"] == "com.example.interop" and seen["MessageId"] == "ping", seen
        assert seen["Data"] == "hello", seen

        # 2.0.1 data may be any JSON: the Data tag holds its text.
        await cp.call(call.DataTransfer(vendor_id="com.example.interop", message_id="obj",
                                        data={"a": [1, 2]}), suppress=False)
        seen = scada.seen[(cp_id, "DataTransfer")][-1]
        assert json.loads(seen["Data"]) == {"a": [1, 2]}, seen

        rejected = await cp.call(call.DataTransfer(vendor_id="com.example.reject"), suppress=False)
        assert rejected.status == "Rejected", rejected


async def test_data_transfer_timeout_gives_unknown_vendor(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        result = await cp.call(call.DataTransfer(vendor_id="com.nobody", message_id="m"), suppress=False)
        assert result.status == "UnknownVendorId", result


async def test_firmware_status_notification(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        await cp.call(call.FirmwareStatusNotification(status="Downloading", request_id=1), suppress=False)
        await api.wait_tag(f"{cp_id}.Firmware.Status", "Downloading")
        await cp.call(call.FirmwareStatusNotification(status="Installed", request_id=1), suppress=False)
        await api.wait_tag(f"{cp_id}.Firmware.Status", "Installed")


async def test_log_status_notification(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        await cp.call(call.LogStatusNotification(status="Uploading", request_id=7), suppress=False)
        await api.wait_tag(f"{cp_id}.Diagnostics.Status", "Uploading")
        await cp.call(call.LogStatusNotification(status="Uploaded", request_id=7), suppress=False)
        await api.wait_tag(f"{cp_id}.Diagnostics.Status", "Uploaded")


async def test_security_event_notification(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        ts = utcnow()
        await cp.call(call.SecurityEventNotification(type="FirmwareUpdated", timestamp=ts, tech_info="2.0.1-fw"),
                      suppress=False)
        await api.wait_tag(f"{cp_id}.Security.LastEvent", "FirmwareUpdated")
        t = await api.wait_tag(f"{cp_id}.Security.LastEventTime")
        assert parse_time(t["value"]) == parse_time(ts), t


CHARGING_PROFILE = {
    "id": 11, "stack_level": 0, "charging_profile_purpose": "TxDefaultProfile", "charging_profile_kind": "Absolute",
    "charging_schedule": [{"id": 1, "start_schedule": "2030-01-01T00:00:00Z", "charging_rate_unit": "W",
                           "charging_schedule_period": [{"start_period": 0, "limit": 11000.0}]}],
}

NOTIFICATIONS = {
    "NotifyEvent": lambda: call.NotifyEvent(generated_at=utcnow(), seq_no=0, tbc=False, event_data=[{
        "event_id": 1, "timestamp": utcnow(), "trigger": "Alerting", "actual_value": "Faulted",
        "event_notification_type": "HardWiredNotification", "cleared": False,
        "component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Problem"},
    }]),
    "NotifyChargingLimit": lambda: call.NotifyChargingLimit(
        charging_limit={"charging_limit_source": "EMS", "is_grid_critical": False}, evse_id=1,
        charging_schedule=[{"id": 2, "charging_rate_unit": "A",
                            "charging_schedule_period": [{"start_period": 0, "limit": 16.0}]}],
    ),
    "ClearedChargingLimit": lambda: call.ClearedChargingLimit(charging_limit_source="EMS", evse_id=1),
    "ReportChargingProfiles": lambda: call.ReportChargingProfiles(
        request_id=3, charging_limit_source="CSO", evse_id=1, charging_profile=[CHARGING_PROFILE], tbc=False),
    "ReservationStatusUpdate": lambda: call.ReservationStatusUpdate(reservation_id=5,
                                                                    reservation_update_status="Expired"),
}


@pytest.mark.parametrize("action", list(NOTIFICATIONS))
async def test_notification_is_answered(bridge, api, cp_id, action):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        t0 = time.monotonic()
        await cp.call(NOTIFICATIONS[action](), suppress=False)  # the library validates the (empty) answer
        assert time.monotonic() - t0 < DECISION_TIMEOUT * 0.8
        await cp.call(call.Heartbeat(), suppress=False)


async def test_notify_ev_charging_needs(bridge, api, cp_id):
    async with cp201(bridge, cp_id) as cp:
        await boot201(cp)
        result = await cp.call(
            call.NotifyEVChargingNeeds(evse_id=1, max_schedule_tuples=3, charging_needs={
                "requested_energy_transfer": "AC_three_phase",
                "departure_time": "2030-01-01T18:00:00Z",
                "ac_charging_parameters": {"energy_amount": 20000, "ev_min_current": 6, "ev_max_current": 32,
                                           "ev_max_voltage": 400},
            }),
            suppress=False,
        )
        assert result.status in ("Accepted", "Rejected", "Processing"), result


# ------------------------------------------------------------------------------------------
# CALLERRORs in 2.0.1's codes (raw frames)
# ------------------------------------------------------------------------------------------

async def test_boot_missing_reason_is_a_201_code(bridge, api, cp_id):
    async with raw_ws(bridge, cp_id) as ws:
        assert ws.subprotocol == OCPP201
        msg = await exchange(ws, [2, "m-1", "BootNotification",
                                  {"chargingStation": {"model": "RawModel", "vendorName": "RawVendor"}}])
        assert_call_error(msg, "m-1", {"OccurenceConstraintViolation", "OccurrenceConstraintViolation",
                                       "FormatViolation"})
        await assert_heartbeat_works(ws)
        assert await api.aget_tag(f"{cp_id}.Boot.Vendor") is None


async def test_16_shaped_boot_is_rejected_with_a_201_code(bridge, api, cp_id):
    async with raw_ws(bridge, cp_id) as ws:
        msg = await exchange(ws, [2, "m-2", "BootNotification",
                                  {"chargePointModel": "M", "chargePointVendor": "V"}])
        assert_call_error(msg, "m-2", {"OccurenceConstraintViolation", "OccurrenceConstraintViolation",
                                       "FormatViolation", "PropertyConstraintViolation"})
        await assert_heartbeat_works(ws)


async def test_wrong_type_is_a_201_code(bridge, api, cp_id):
    async with raw_ws(bridge, cp_id) as ws:
        msg = await exchange(ws, [2, "t-1", "StatusNotification", {
            "timestamp": utcnow(), "connectorStatus": "Available", "evseId": "one", "connectorId": 1}])
        assert_call_error(msg, "t-1", {"TypeConstraintViolation", "FormatViolation"})
        await assert_heartbeat_works(ws)


async def test_not_json_is_format_violation(bridge, api, cp_id):
    async with raw_ws(bridge, cp_id) as ws:
        msg = await exchange(ws, "this is { not json")
        assert_call_error(msg, None, {"FormatViolation", "RpcFrameworkError"})
        await assert_heartbeat_works(ws)


# NotImplemented for an unknown action, the same in both versions: test_raw_socket.py.


# ------------------------------------------------------------------------------------------
# Subprotocol negotiation
# ------------------------------------------------------------------------------------------

async def test_offering_both_gets_201_by_default(bridge, api, cp_id):
    async with raw_ws(bridge, cp_id, subprotocols=("ocpp1.6", "ocpp2.0.1")) as ws:
        assert ws.subprotocol == "ocpp2.0.1"
        msg = await exchange(ws, [2, "b-1", "BootNotification",
                                  {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}])
        assert msg[0] == 3 and msg[2]["status"] == "Accepted", msg
    await api.wait_tag(f"{cp_id}.Protocol", "ocpp2.0.1")


async def test_ocpp20_is_treated_as_201(bridge, api, cp_id):
    async with cp201(bridge, cp_id, subprotocols=("ocpp2.0",)) as cp:
        assert cp.ws.subprotocol == "ocpp2.0"  # the token the charge point offered
        result = await boot201(cp)
        assert result.status == "Accepted", result
        await api.wait_tag(f"{cp_id}.Protocol", "ocpp2.0.1")
        await api.wait_tag(f"{cp_id}.Boot.Vendor", "InteropVendor201")


@pytest.fixture(scope="module")
def alt_bridge():
    """A bridge that prefers 1.6, does not take `ocpp2.0` for 2.0.1, and falls back to 2.0.1."""
    with running_bridge("ocpp-bridge-interop-v201-", config={
        "protocols": "[ocpp1.6, ocpp2.0.1]",
        "treatOcpp20As201": "false",
        "fallbackProtocol": "ocpp2.0.1",
    }) as b:
        yield b


async def test_configured_preference_16_first(alt_bridge, cp_id):
    async with raw_ws(alt_bridge, cp_id, subprotocols=("ocpp2.0.1", "ocpp1.6")) as ws:
        assert ws.subprotocol == "ocpp1.6"
        msg = await exchange(ws, [2, "b-1", "BootNotification", {"chargePointModel": "M", "chargePointVendor": "V"}])
        assert msg[0] == 3 and msg[2]["status"] == "Accepted", msg
    await alt_bridge.api.wait_tag(f"{cp_id}.Protocol", "ocpp1.6")
    # 2.0.1 alone is still spoken.
    async with raw_ws(alt_bridge, cp_id + "-b", subprotocols=("ocpp2.0.1",)) as ws:
        assert ws.subprotocol == "ocpp2.0.1"


async def test_ocpp20_refused_when_not_treated_as_201(alt_bridge, cp_id):
    async with raw_ws(alt_bridge, cp_id, subprotocols=("ocpp2.0",)) as ws:
        assert ws.subprotocol is None, "no Sec-WebSocket-Protocol for an unsupported offer"
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1002, closed.value


async def test_fallback_protocol_201(alt_bridge, cp_id):
    async with raw_ws(alt_bridge, cp_id, subprotocols=None) as ws:
        assert ws.subprotocol is None
        msg = await exchange(ws, [2, "b-1", "BootNotification",
                                  {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}])
        assert msg[0] == 3 and msg[2]["status"] == "Accepted", msg
    await alt_bridge.api.wait_tag(f"{cp_id}.Protocol", "ocpp2.0.1")


# ------------------------------------------------------------------------------------------
# A script decides a 2.0.1 Authorize (and a TransactionEvent) through the neutral 1.6 names
# ------------------------------------------------------------------------------------------

SCRIPT = """
on_request("Authorize", function(cp, req)
  if req.idTag == "GOOD" then return "Accepted" end
  return "Blocked"
end)

on_request("StartTransaction", function(cp, req)
  tag.set(cp .. ".ScriptSaw", string.format("%s|%s|%s|%s|%s", tostring(req.idTag), tostring(req.connectorId),
    tostring(req.meterStart), type(req.transactionId), tostring(req.transactionId)))
  if req.idTag == "GOOD" and req.connectorId == 1 and req.meterStart == 1200 and type(req.transactionId) == "string" then
    return "Accepted"
  end
  return "Blocked"
end)
"""


@pytest.fixture(scope="module")
def scripted_bridge():
    with running_bridge("ocpp-bridge-interop-v201-scripts-", scripts={"10_v201.lua": SCRIPT}) as b:
        yield b


async def test_script_decides_201_authorize(scripted_bridge, cp_id):
    api = scripted_bridge.api
    async with cp201(scripted_bridge, cp_id) as cp:
        await boot201(cp)
        t0 = time.monotonic()
        good = await cp.call(call.Authorize(id_token=id_token("GOOD")), suppress=False)
        assert time.monotonic() - t0 < DECISION_TIMEOUT * 0.8, "decided by the timeout default, not the script"
        assert status_of(good) == "Accepted", good
        bad = await cp.call(call.Authorize(id_token=id_token("BAD")), suppress=False)
        assert status_of(bad) == "Blocked", bad
        errors = await api.aget_tag("Scripts.Errors")
        assert errors is None or errors["value"] in (0, None), (errors, await api.aget_tag("Scripts.LastError"))


async def test_script_sees_neutral_names_of_a_transaction_event(scripted_bridge, cp_id):
    api = scripted_bridge.api
    tx = new_tx_id()
    async with cp201(scripted_bridge, cp_id) as cp:
        await boot201(cp)
        result = await transaction_event(cp, "Started", tx, 0, "Authorized", evse_id=1, token=id_token("GOOD"),
                                         meter_value=[energy(1200, "Transaction.Begin")])
        # The script accepts only if idTag, connectorId, meterStart and a string transactionId are there.
        saw = await api.aget_tag(f"{cp_id}.ScriptSaw")
        assert status_of(result) == "Accepted", (result, saw, await api.aget_tag("Scripts.LastError"))
        assert saw is not None and saw["value"].endswith(f"|string|{tx}"), saw
