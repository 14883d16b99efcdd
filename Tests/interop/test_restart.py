"""State that must survive a bridge restart on the same database."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from ocpp.v16 import call

from conftest import Bridge, Scada, charge_point, utcnow
from test_cp_initiated import boot


@pytest.fixture
def bridge_dir():
    with tempfile.TemporaryDirectory(prefix="ocpp-bridge-restart-") as tmp:
        yield Path(tmp)


async def start_once(bridge: Bridge, cp_id: str, meter_start: int) -> int:
    scada = Scada(bridge.api)
    scada.serve(cp_id)
    scada.start()
    try:
        async with charge_point(bridge, cp_id) as cp:
            await boot(cp)
            result = await cp.call(
                call.StartTransaction(connector_id=1, id_tag="GOODTAG1", meter_start=meter_start, timestamp=utcnow()),
                suppress=False,
            )
            assert result.id_tag_info["status"] == "Accepted", (result, scada.errors)
            return result.transaction_id
    finally:
        scada.stop()
        scada.join(timeout=5)


async def test_transaction_ids_increase_across_restarts(bridge_dir, cp_id, request):
    bridge = Bridge(bridge_dir)
    request.node.funcargs["bridge"] = bridge  # the log tail on failure
    bridge.start()
    try:
        first = await start_once(bridge, cp_id, 100)
    finally:
        bridge.stop()
    assert bridge.proc.returncode == 0, f"exit code after SIGTERM: {bridge.proc.returncode}"

    bridge.start()
    try:
        second = await start_once(bridge, cp_id, 200)
        # Tags persist in the SQLite file too.
        tag = await bridge.api.aget_tag(f"{cp_id}.Boot.Vendor")
        assert tag is not None and tag["value"] == "InteropVendor", tag
    finally:
        bridge.stop()
    assert second > first, (first, second)
