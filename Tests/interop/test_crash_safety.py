"""Crash safety: the bridge is killed with SIGKILL in the middle of transactions under load, then restarted on
the same database. No transaction a charge point got an answer for may be lost, no transaction id may be
reused, and SQLite's integrity check must pass."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

from ocpp.v16 import call
from ocpp.v201 import ChargePoint as V201ChargePoint
from ocpp.v201 import call as call201

from conftest import Bridge, charge_point

LOCAL_DECISIONS = {
    # The bridge answers every decision itself: the load is as fast as the durable writes allow.
    "routing": "\n  Authorize: local\n  StartTransaction: local\n  StopTransaction: local\n  DataTransfer: local",
    # Closed-loop load, far above any real charger's rate.
    "ocpp": "\n  messagesPerSecond: 100000\n  burst: 100000",
}


def utcnow() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Answered:
    """What the charge points were told, which the database must hold after the crash."""

    def __init__(self):
        self.started: set[int] = set()
        self.stopped: set[int] = set()
        self.station_started: set[str] = set()
        self.station_ended: set[str] = set()


async def v16_worker(bridge: Bridge, cp_id: str, answered: Answered, running: asyncio.Event):
    with contextlib.suppress(Exception):
        async with charge_point(bridge, cp_id) as cp:
            meter = 0
            while running.is_set():
                start = await cp.call(call.StartTransaction(
                    connector_id=1, id_tag="LOAD", meter_start=meter, timestamp=utcnow()), suppress=False)
                answered.started.add(start.transaction_id)
                meter += 10
                await cp.call(call.MeterValues(connector_id=1, transaction_id=start.transaction_id, meter_value=[
                    {"timestamp": utcnow(), "sampled_value": [{"value": str(meter)}]}]), suppress=False)
                await cp.call(call.StopTransaction(
                    transaction_id=start.transaction_id, meter_stop=meter, timestamp=utcnow()), suppress=False)
                answered.stopped.add(start.transaction_id)


async def v201_worker(bridge: Bridge, cp_id: str, answered: Answered, running: asyncio.Event):
    with contextlib.suppress(Exception):
        async with charge_point(bridge, cp_id, cls=V201ChargePoint, subprotocols=("ocpp2.0.1",)) as cp:
            while running.is_set():
                tx = uuid.uuid4().hex[:20]
                await cp.call(call201.TransactionEvent(
                    event_type="Started", timestamp=utcnow(), trigger_reason="CablePluggedIn", seq_no=0,
                    transaction_info={"transaction_id": tx}, evse={"id": 1, "connector_id": 1}), suppress=False)
                answered.station_started.add(tx)
                await cp.call(call201.TransactionEvent(
                    event_type="Ended", timestamp=utcnow(), trigger_reason="EVDeparted", seq_no=1,
                    transaction_info={"transaction_id": tx, "stopped_reason": "EVDisconnected"}), suppress=False)
                answered.station_ended.add(tx)


def read_db(path: Path):
    with contextlib.closing(sqlite3.connect(path)) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchall()
        rows = db.execute("SELECT id, station_transaction_id, stop_time FROM transactions").fetchall()
    return integrity, rows


async def test_sigkill_under_load_loses_no_answered_transaction_and_reuses_no_id(cp_id):
    with tempfile.TemporaryDirectory(prefix="ocpp-bridge-crash-") as tmp:
        workdir = Path(tmp)
        bridge = Bridge(workdir, config=LOCAL_DECISIONS)
        bridge.start()
        answered = Answered()
        running = asyncio.Event()
        running.set()
        try:
            # One transaction stays open across the crash.
            async with charge_point(bridge, f"{cp_id}-open") as cp:
                open_tx = (await cp.call(call.StartTransaction(
                    connector_id=2, id_tag="OPEN", meter_start=5, timestamp=utcnow()), suppress=False)).transaction_id
            workers = [asyncio.create_task(v16_worker(bridge, f"{cp_id}-{n}", answered, running)) for n in range(12)]
            workers += [asyncio.create_task(v201_worker(bridge, f"{cp_id}-s{n}", answered, running)) for n in range(4)]
            await asyncio.sleep(2.0)
            assert answered.started and answered.station_started, "the load never got going"
            bridge.proc.kill()  # SIGKILL: no shutdown, no flush
            bridge.proc.wait(timeout=5)
            running.clear()
            await asyncio.wait_for(asyncio.gather(*workers), 15)
        finally:
            bridge.stop()

        integrity, rows = read_db(workdir / "bridge.sqlite")
        assert integrity == [("ok",)], integrity
        ids = {row[0] for row in rows}
        stopped = {row[0] for row in rows if row[2] is not None}
        stations = {row[1] for row in rows if row[1] is not None}
        stations_ended = {row[1] for row in rows if row[1] is not None and row[2] is not None}
        assert answered.started <= ids, f"answered but lost: {sorted(answered.started - ids)[:10]}"
        assert answered.stopped <= stopped, f"stop answered but lost: {sorted(answered.stopped - stopped)[:10]}"
        assert answered.station_started <= stations
        assert answered.station_ended <= stations_ended
        assert open_tx in ids and open_tx not in stopped
        print(f"before the kill: {len(answered.started)} 1.6 and {len(answered.station_started)} 2.0.1 transactions answered; "
              f"{len(rows)} rows stored")

        # Restarted on the same database: the open transaction can be stopped, and new ids are new.
        bridge.start()
        try:
            async with charge_point(bridge, f"{cp_id}-open") as cp:
                stop = await cp.call(call.StopTransaction(
                    transaction_id=open_tx, meter_stop=50, timestamp=utcnow(), id_tag="OPEN"), suppress=False)
                assert stop.id_tag_info["status"] == "Accepted"
                fresh = (await cp.call(call.StartTransaction(
                    connector_id=1, id_tag="AFTER", meter_start=0, timestamp=utcnow()), suppress=False)).transaction_id
            assert fresh > max(ids), (fresh, max(ids))
            await bridge.api.wait_tag(f"{cp_id}-open.Connector2.Transaction.Active", False)
        finally:
            bridge.stop()
        integrity, rows = read_db(workdir / "bridge.sqlite")
        assert integrity == [("ok",)]
        assert {row[0]: row[2] for row in rows}[open_tx] is not None
        assert len({row[0] for row in rows}) == len(rows)
