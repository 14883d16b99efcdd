"""Every charge-point-initiated OCPP 1.6 message, sent by the PyPI `ocpp` library's ChargePoint (which
validates the bridge's answers against the official JSON schemas), and the tags each one produces."""

from __future__ import annotations

import asyncio
import time

import pytest
from ocpp.v16 import call

from conftest import DECISION_TIMEOUT, HEARTBEAT_INTERVAL, assert_recent, charge_point, same_value, utcnow


async def boot(cp, **extra):
    return await cp.call(
        call.BootNotification(
            charge_point_model="InteropModel",
            charge_point_vendor="InteropVendor",
            charge_point_serial_number="SN-0042",
            firmware_version="1.2.3",
            **extra,
        ),
        suppress=False,
    )


# ------------------------------------------------------------------------------------------
# BootNotification, Heartbeat, StatusNotification, MeterValues
# ------------------------------------------------------------------------------------------

async def test_boot_notification(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        result = await boot(cp)
        assert result.status == "Accepted"
        assert result.interval == HEARTBEAT_INTERVAL
        assert_recent(result.current_time)

        await api.wait_tag(f"{cp_id}.Boot.Vendor", "InteropVendor")
        await api.wait_tag(f"{cp_id}.Boot.Model", "InteropModel")
        await api.wait_tag(f"{cp_id}.Boot.SerialNumber", "SN-0042")
        await api.wait_tag(f"{cp_id}.Boot.FirmwareVersion", "1.2.3")
        await api.wait_tag(f"{cp_id}.Online", True)
        await api.wait_tag(f"{cp_id}.Protocol", "ocpp1.6")
        last_seen = await api.wait_tag(f"{cp_id}.LastSeen")
        assert_recent(last_seen["value"])

        tag = await api.aget_tag(f"{cp_id}.Boot.Vendor")
        assert tag["name"] == f"{cp_id}.Boot.Vendor"
        assert tag["quality"] == "good"
        assert_recent(tag["updatedAt"])
        assert tag["writable"] is False

        status, body = await api.chargepoint(cp_id)
        assert status == 200, body
        assert body["id"] == cp_id
        assert body["online"] is True
        assert body["protocol"] == "ocpp1.6"
        assert_recent(body["connectedSince"])
        assert_recent(body["lastSeen"])

        status, body = await api.arequest("GET", "/api/chargepoints")
        assert status == 200, body
        assert cp_id in [c["id"] for c in body]

        listed = await api.alist_tags(f"{cp_id}.Boot.")
        names = {t["name"] for t in listed}
        assert {f"{cp_id}.Boot.{n}" for n in ("Vendor", "Model", "SerialNumber", "FirmwareVersion")} <= names
        assert all(t["name"].startswith(f"{cp_id}.Boot.") for t in listed)


async def test_disconnect_sets_online_false(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        await api.wait_tag(f"{cp_id}.Online", True)
    await api.wait_tag(f"{cp_id}.Online", False)
    status, body = await api.chargepoint(cp_id)
    assert status == 200, body
    assert body["online"] is False


async def test_heartbeat(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        result = await cp.call(call.Heartbeat(), suppress=False)
        assert_recent(result.current_time)
        tag = await api.wait_tag(f"{cp_id}.Heartbeat.Last")
        assert_recent(tag["value"])


async def test_status_notification(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        await cp.call(
            call.StatusNotification(connector_id=1, error_code="NoError", status="Available", timestamp=utcnow()),
            suppress=False,
        )
        await api.wait_tag(f"{cp_id}.Connector1.Status", "Available")
        await api.wait_tag(f"{cp_id}.Connector1.ErrorCode", "NoError")

        await cp.call(
            call.StatusNotification(connector_id=1, error_code="GroundFailure", status="Faulted",
                                    info="RCD tripped", vendor_error_code="E42"),
            suppress=False,
        )
        await api.wait_tag(f"{cp_id}.Connector1.Status", "Faulted")
        await api.wait_tag(f"{cp_id}.Connector1.ErrorCode", "GroundFailure")

        # Connector 0 is the charge point itself.
        await cp.call(call.StatusNotification(connector_id=0, error_code="NoError", status="Unavailable"),
                      suppress=False)
        await api.wait_tag(f"{cp_id}.Connector0.Status", "Unavailable")


async def test_meter_values(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        await cp.call(
            call.MeterValues(
                connector_id=1,
                meter_value=[
                    {
                        "timestamp": utcnow(),
                        "sampledValue": [
                            {"value": "12.345", "measurand": "Energy.Active.Import.Register", "unit": "kWh",
                             "context": "Sample.Periodic"},
                            {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                            {"value": "230.1", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
                            {"value": "16.0", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
                            {"value": "15.5", "measurand": "Current.Import", "phase": "L2", "unit": "A"},
                        ],
                    }
                ],
            ),
            suppress=False,
        )
        energy = await api.wait_tag(f"{cp_id}.Connector1.Meter.Energy.Active.Import.Register")
        # The unit is kept as metadata; the value must be a number consistent with it.
        assert isinstance(energy["value"], (int, float)) and not isinstance(energy["value"], bool), energy
        assert energy.get("unit") in ("kWh", "Wh"), energy
        expected = 12.345 if energy["unit"] == "kWh" else 12345
        assert abs(energy["value"] - expected) < 1e-6, energy

        power = await api.wait_tag(f"{cp_id}.Connector1.Meter.Power.Active.Import", 7200)
        assert power.get("unit") == "W", power
        volt = await api.wait_tag(f"{cp_id}.Connector1.Meter.Voltage.L1-N", 230.1)
        assert volt.get("unit") == "V", volt
        l1 = await api.wait_tag(f"{cp_id}.Connector1.Meter.Current.Import.L1", 16.0)
        assert l1.get("unit") == "A", l1
        await api.wait_tag(f"{cp_id}.Connector1.Meter.Current.Import.L2", 15.5)
        assert energy["writable"] is False


async def test_meter_values_defaults_measurand_and_unit(bridge, api, cp_id):
    """A sampled value without measurand/unit is Energy.Active.Import.Register in Wh (OCPP 1.6 defaults)."""
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        await cp.call(
            call.MeterValues(connector_id=2, transaction_id=None,
                             meter_value=[{"timestamp": utcnow(), "sampledValue": [{"value": "500"}]}]),
            suppress=False,
        )
        tag = await api.wait_tag(f"{cp_id}.Connector2.Meter.Energy.Active.Import.Register", 500)
        assert tag.get("unit") == "Wh", tag


# ------------------------------------------------------------------------------------------
# Authorize (decided through tags by the SCADA client)
# ------------------------------------------------------------------------------------------

async def test_authorize_accepted_via_tags(bridge, api, scada, cp_id):
    scada.serve(cp_id)
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        result = await cp.call(call.Authorize(id_tag="GOODTAG1"), suppress=False)
        assert result.id_tag_info["status"] == "Accepted", (result, scada.errors)
        seen = scada.seen.get((cp_id, "Authorize"))
        assert seen and seen[-1]["IdTag"] == "GOODTAG1", seen
        request = await api.aget_tag(f"{cp_id}.Authorize.Request")
        response = await api.aget_tag(f"{cp_id}.Authorize.Response")
        assert isinstance(request["value"], int) and request["value"] >= 1, request
        assert same_value(response["value"], request["value"]), (request, response)


async def test_authorize_blocked_via_tags(bridge, api, scada, cp_id):
    scada.serve(cp_id)
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        first = await cp.call(call.Authorize(id_tag="GOODTAG2"), suppress=False)
        assert first.id_tag_info["status"] == "Accepted", (first, scada.errors)
        r1 = (await api.aget_tag(f"{cp_id}.Authorize.Request"))["value"]
        result = await cp.call(call.Authorize(id_tag="BLOCKED1"), suppress=False)
        assert result.id_tag_info["status"] == "Blocked", (result, scada.errors)
        r2 = (await api.aget_tag(f"{cp_id}.Authorize.Request"))["value"]
        assert r2 == r1 + 1, (r1, r2)
        await api.wait_tag(f"{cp_id}.Authorize.IdTag", "BLOCKED1")


async def test_authorize_timeout_gives_default_invalid(bridge, api, scada, cp_id):
    # No decider for this charge point: the configured default applies after decisionTimeout.
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        started = time.monotonic()
        result = await cp.call(call.Authorize(id_tag="NOBODYANSWERS"), suppress=False)
        elapsed = time.monotonic() - started
        assert result.id_tag_info["status"] == "Invalid", result
        assert DECISION_TIMEOUT * 0.8 <= elapsed < DECISION_TIMEOUT + 3, elapsed
        await api.wait_tag(f"{cp_id}.Authorize.IdTag", "NOBODYANSWERS")


# ------------------------------------------------------------------------------------------
# StartTransaction / StopTransaction
# ------------------------------------------------------------------------------------------

async def start_tx(cp, connector_id=1, id_tag="GOODTAG1", meter_start=1000):
    return await cp.call(
        call.StartTransaction(connector_id=connector_id, id_tag=id_tag, meter_start=meter_start, timestamp=utcnow()),
        suppress=False,
    )


async def test_start_transaction(bridge, api, scada, cp_id):
    scada.serve(cp_id)
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        first = await start_tx(cp, connector_id=1, id_tag="GOODTAG1", meter_start=1000)
        assert first.id_tag_info["status"] == "Accepted", (first, scada.errors)
        assert isinstance(first.transaction_id, int) and first.transaction_id > 0, first

        seen = scada.seen[(cp_id, "StartTransaction")][-1]
        assert seen["IdTag"] == "GOODTAG1", seen
        assert same_value(seen["ConnectorId"], 1), seen
        assert same_value(seen["MeterStart"], 1000), seen

        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Id", first.transaction_id)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Active", True)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.IdTag", "GOODTAG1")
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.MeterStart", 1000)
        start_time = await api.wait_tag(f"{cp_id}.Connector1.Transaction.StartTime")
        assert_recent(start_time["value"])

        second = await start_tx(cp, connector_id=2, id_tag="GOODTAG2", meter_start=50)
        assert second.id_tag_info["status"] == "Accepted", second
        assert second.transaction_id > first.transaction_id, (first, second)
        await api.wait_tag(f"{cp_id}.Connector2.Transaction.Id", second.transaction_id)
        await api.wait_tag(f"{cp_id}.Connector2.Transaction.Active", True)


async def test_start_transaction_blocked(bridge, api, scada, cp_id):
    scada.serve(cp_id)
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        result = await start_tx(cp, id_tag="BLOCKED1")
        assert result.id_tag_info["status"] == "Blocked", (result, scada.errors)


async def test_start_transaction_timeout_gives_default_invalid(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        started = time.monotonic()
        result = await start_tx(cp, id_tag="NOBODYANSWERS")
        elapsed = time.monotonic() - started
        assert result.id_tag_info["status"] == "Invalid", result
        assert DECISION_TIMEOUT * 0.8 <= elapsed < DECISION_TIMEOUT + 3, elapsed


async def test_stop_transaction(bridge, api, scada, cp_id):
    scada.serve(cp_id)
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        started = await start_tx(cp, connector_id=1, id_tag="GOODTAG1", meter_start=1000)
        tx = started.transaction_id
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Active", True)

        result = await cp.call(
            call.StopTransaction(
                meter_stop=4321, timestamp=utcnow(), transaction_id=tx, reason="Local", id_tag="GOODTAG1",
                transaction_data=[
                    {"timestamp": utcnow(), "sampledValue": [{"value": "4321", "context": "Transaction.End"}]}
                ],
            ),
            suppress=False,
        )
        if result.id_tag_info is not None:
            assert result.id_tag_info["status"] == "Accepted", result

        seen = scada.seen[(cp_id, "StopTransaction")][-1]
        assert same_value(seen["TransactionId"], tx), seen
        assert seen["IdTag"] == "GOODTAG1", seen
        assert same_value(seen["MeterStop"], 4321), seen
        assert seen["Reason"] == "Local", seen

        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Active", False)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Id", tx)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.MeterStop", 4321)
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Reason", "Local")
        stop_time = await api.wait_tag(f"{cp_id}.Connector1.Transaction.StopTime")
        assert_recent(stop_time["value"])

        # A new transaction after the stop gets a larger id.
        again = await start_tx(cp, connector_id=1, id_tag="GOODTAG1", meter_start=4321)
        assert again.transaction_id > tx, (tx, again)


async def test_stop_transaction_without_id_tag_timeout_default_accepted(bridge, api, scada, cp_id):
    """StopTransaction may omit idTag; with nobody deciding, the default (Accepted) applies."""
    scada.serve(cp_id)
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        tx = (await start_tx(cp)).transaction_id
    # A second charge point id without a decider, so the Stop times out.
    other = cp_id + "-nodecider"
    async with charge_point(bridge, other) as cp:
        await boot(cp)
        t0 = time.monotonic()
        result = await cp.call(
            call.StopTransaction(meter_stop=2000, timestamp=utcnow(), transaction_id=tx, reason="EVDisconnected"),
            suppress=False,
        )
        elapsed = time.monotonic() - t0
        if result.id_tag_info is not None:
            assert result.id_tag_info["status"] == "Accepted", result
        assert elapsed < DECISION_TIMEOUT + 3, elapsed


# ------------------------------------------------------------------------------------------
# DataTransfer, diagnostics and firmware notifications
# ------------------------------------------------------------------------------------------

async def test_data_transfer_via_tags(bridge, api, scada, cp_id):
    scada.serve(cp_id)
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        result = await cp.call(
            call.DataTransfer(vendor_id="com.example.interop", message_id="ping", data="hello"), suppress=False
        )
        assert result.status == "Accepted", (result, scada.errors)
        assert result.data == "echo:ping:hello", result
        seen = scada.seen[(cp_id, "DataTransfer")][-1]
        assert seen["VendorId"] == "com.example.interop", seen
        assert seen["MessageId"] == "ping", seen
        assert seen["Data"] == "hello", seen

        rejected = await cp.call(call.DataTransfer(vendor_id="com.example.reject", data="x"), suppress=False)
        assert rejected.status == "Rejected", rejected


async def test_data_transfer_timeout_gives_unknown_vendor(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        result = await cp.call(call.DataTransfer(vendor_id="com.nobody", message_id="m"), suppress=False)
        assert result.status == "UnknownVendorId", result


async def test_diagnostics_status_notification(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        await cp.call(call.DiagnosticsStatusNotification(status="Uploading"), suppress=False)
        await api.wait_tag(f"{cp_id}.Diagnostics.Status", "Uploading")
        await cp.call(call.DiagnosticsStatusNotification(status="Uploaded"), suppress=False)
        await api.wait_tag(f"{cp_id}.Diagnostics.Status", "Uploaded")


async def test_firmware_status_notification(bridge, api, cp_id):
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        await cp.call(call.FirmwareStatusNotification(status="Downloading"), suppress=False)
        await api.wait_tag(f"{cp_id}.Firmware.Status", "Downloading")
        await cp.call(call.FirmwareStatusNotification(status="Installed"), suppress=False)
        await api.wait_tag(f"{cp_id}.Firmware.Status", "Installed")


async def test_changes_feed_reports_tag_updates(bridge, api, cp_id):
    status, body = await api.arequest("GET", "/api/changes?since=0")
    assert status == 200, body
    since = body["next"]
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        deadline = time.monotonic() + 5
        names = []
        while time.monotonic() < deadline and f"{cp_id}.Boot.Vendor" not in names:
            status, body = await api.arequest("GET", f"/api/changes?since={since}&wait=2")
            assert status == 200, body
            seqs = [c["seq"] for c in body["changes"]]
            assert seqs == sorted(seqs) and all(s > since for s in seqs), seqs
            names += [c["name"] for c in body["changes"]]
            vendor = [c for c in body["changes"] if c["name"] == f"{cp_id}.Boot.Vendor"]
            if vendor:
                assert vendor[-1]["value"] == "InteropVendor"
            since = body["next"]
        assert f"{cp_id}.Boot.Vendor" in names


async def test_changes_long_poll_waits(bridge, api):
    status, body = await api.arequest("GET", "/api/changes?since=0")
    assert status == 200, body
    since = body["next"]
    # Nothing newer than `next`: the call must block about `wait` seconds, then answer no changes.
    # (A straggling write from an earlier test may end one poll early; then poll again from there.)
    for _ in range(3):
        t0 = time.monotonic()
        status, body = await api.arequest("GET", f"/api/changes?since={since}&wait=1")
        elapsed = time.monotonic() - t0
        assert status == 200, body
        if body["changes"]:
            since = body["next"]
            continue
        assert 0.8 <= elapsed < 5, f"empty answer after {elapsed:.2f}s, expected about 1s"
        assert body["next"] >= since
        return
    pytest.fail("the change feed never went quiet")


# ------------------------------------------------------------------------------------------
# Handshake details documented in docs/tags.md
# ------------------------------------------------------------------------------------------

async def test_stale_response_does_not_answer_a_new_request(bridge, api, scada, cp_id):
    """After a decider answered request n, request n+1 must wait for its own answer: the old
    `.Status`/`.Response` must not be reused, so with nobody deciding the default applies."""
    scada.serve(cp_id)
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        first = await cp.call(call.Authorize(id_tag="GOODTAG1"), suppress=False)
        assert first.id_tag_info["status"] == "Accepted", (first, scada.errors)
        scada.unserve(cp_id)
        t0 = time.monotonic()
        second = await cp.call(call.Authorize(id_tag="GOODTAG1"), suppress=False)
        elapsed = time.monotonic() - t0
        assert second.id_tag_info["status"] == "Invalid", second
        assert elapsed >= DECISION_TIMEOUT * 0.8, elapsed


async def test_status_outside_allowed_list_gets_default(bridge, api, scada, cp_id):
    scada.serve(cp_id, Authorize=lambda fields: ("Maybe", {}))
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        result = await cp.call(call.Authorize(id_tag="GOODTAG1"), suppress=False)
        assert result.id_tag_info["status"] == "Invalid", result


async def test_resent_start_transaction_gets_same_id(bridge, api, scada, cp_id):
    """A charger that never got the answer resends the same StartTransaction (same connector, idTag,
    meterStart and timestamp): it must get the same transaction id (OCPP-NOTES, docs/tags.md)."""
    scada.serve(cp_id)
    async with charge_point(bridge, cp_id) as cp:
        await boot(cp)
        ts = utcnow()
        req = call.StartTransaction(connector_id=1, id_tag="GOODTAG1", meter_start=777, timestamp=ts)
        first = await cp.call(req, suppress=False)
        again = await cp.call(req, suppress=False)
        assert again.transaction_id == first.transaction_id, (first, again)
        other = await cp.call(
            call.StartTransaction(connector_id=1, id_tag="GOODTAG1", meter_start=778, timestamp=ts), suppress=False
        )
        assert other.transaction_id > first.transaction_id, (first, other)


async def test_health_and_metrics(bridge, api):
    status, body = await api.arequest("GET", "/health")
    assert status == 200, body
    status, body = await api.arequest("GET", "/metrics")
    assert status == 200, body
    assert isinstance(body, str) and "# TYPE" in body, body[:500] if isinstance(body, str) else body
