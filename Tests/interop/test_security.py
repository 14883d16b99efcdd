"""Security profile 1 and charge point registrations (docs/security.md) against the real binary: HTTP Basic
auth on the upgrade, the unknown-charge-point policies, the Pending boot an operator accepts through a tag,
the REST registration API and the `ocpp-bridge chargepoint` command."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
import websockets
from ocpp.v16 import call
from websockets.typing import Subprotocol

from conftest import Bridge, TestChargePoint

PASSWORD = "correct-horse-battery-9"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@contextlib.asynccontextmanager
async def connect(bridge: Bridge, cp_id: str, headers: dict[str, str] | None = None):
    ws = await websockets.connect(
        bridge.ws_url(cp_id), subprotocols=[Subprotocol("ocpp1.6")], additional_headers=headers or {},
        proxy=None, open_timeout=5)
    cp = TestChargePoint(cp_id, ws, response_timeout=10)
    task = asyncio.create_task(cp.start())
    try:
        yield cp
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await ws.close()


async def refused_with(bridge: Bridge, cp_id: str, headers: dict[str, str] | None = None) -> int:
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with connect(bridge, cp_id, headers):
            pass
    return refused.value.response.status_code


def chargepoint_command(bridge: Bridge, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [os.environ["OCPP_BRIDGE_BIN"], "chargepoint", *args, "--db", str(bridge.workdir / "bridge.sqlite")],
        input=stdin, capture_output=True, text=True, timeout=30)


@contextlib.contextmanager
def secured_bridge(**security: str):
    with tempfile.TemporaryDirectory(prefix="ocpp-bridge-security-") as tmp:
        block = "".join(f"\n  {key}: {value}" for key, value in security.items())
        bridge = Bridge(Path(tmp), config={"security": block})
        bridge.start()
        try:
            yield bridge
        finally:
            bridge.stop()


async def test_profile_1_admits_only_the_right_password(cp_id):
    with secured_bridge(profile="1", unknownChargePoints="reject") as bridge:
        made = chargepoint_command(bridge, "set", cp_id, "--password-stdin", stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
        listed = chargepoint_command(bridge, "list")
        assert f"{cp_id}\tAccepted\tpassword" in listed.stdout

        assert await refused_with(bridge, cp_id) == 401
        assert await refused_with(bridge, cp_id, basic(cp_id, "wrong-horse-battery-99")) == 401
        assert await refused_with(bridge, cp_id, basic("someone-else", PASSWORD)) == 401
        assert await refused_with(bridge, f"{cp_id}-unknown", basic(f"{cp_id}-unknown", PASSWORD)) == 404
        async with connect(bridge, cp_id, basic(cp_id, PASSWORD)) as cp:
            boot = await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
            assert boot.status == "Accepted"
        log = bridge.log_text()
        assert "wrong password for" in log and "is unknown" in log
        assert PASSWORD not in log

        # The REST API changes the password; the old one stops working.
        status, body = await bridge.api.arequest("PUT", f"/api/chargepoints/{cp_id}/registration", {"password": "another-secret-pass-42"})
        assert status == 200 and body["hasPassword"] is True and "password" not in body
        assert await refused_with(bridge, cp_id, basic(cp_id, PASSWORD)) == 401
        async with connect(bridge, cp_id, basic(cp_id, "another-secret-pass-42")):
            pass
        status, body = await bridge.api.arequest("PUT", f"/api/chargepoints/{cp_id}/registration", {"password": "short"})
        assert status == 400 and "16 to 40" in body["error"]["description"]


async def test_profile_1_with_accept_keeps_the_first_password(cp_id):
    with secured_bridge(profile="1", unknownChargePoints="accept") as bridge:
        assert await refused_with(bridge, cp_id) == 401
        async with connect(bridge, cp_id, basic(cp_id, PASSWORD)):
            pass
        assert await refused_with(bridge, cp_id, basic(cp_id, "a-different-password-1")) == 401
        async with connect(bridge, cp_id, basic(cp_id, PASSWORD)):
            pass
        status, body = await bridge.api.arequest("GET", f"/api/chargepoints/{cp_id}/registration")
        assert status == 200 and body["status"] == "Accepted" and body["hasPassword"] is True


async def test_a_pending_charge_point_boots_once_an_operator_accepts_it(cp_id):
    with secured_bridge(unknownChargePoints="pending", pendingInterval="300") as bridge:
        api = bridge.api
        async with connect(bridge, cp_id) as cp:
            boot = await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
            assert boot.status == "Pending" and boot.interval == 300
            from ocpp.exceptions import OCPPError
            with pytest.raises(OCPPError) as refused:
                await cp.call(call.Heartbeat(), suppress=False)
            assert type(refused.value).__name__ == "SecurityError"
            await api.wait_tag(f"{cp_id}.Registration.Status", "Pending")
            await api.wait_tag(f"{cp_id}.Boot.Vendor", "V")  # the operator sees who is asking

            # The operator accepts through the tag; the bridge asks the charge point to boot again.
            status, _ = await api.arequest("PUT", api.tag_path(f"{cp_id}.Registration.Status"), {"value": "Accepted"})
            assert status == 200
            trigger = await cp.wait_received("TriggerMessage", timeout=10)
            assert trigger["requested_message"] == "BootNotification"
            boot = await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
            assert boot.status == "Accepted"
            await cp.call(call.Heartbeat(), suppress=False)

        # Rejecting a connected charge point disconnects it, and it cannot come back.
        async with connect(bridge, cp_id) as cp:
            status, body = await api.arequest("PUT", f"/api/chargepoints/{cp_id}/registration", {"status": "Rejected"})
            assert status == 200 and body["status"] == "Rejected"
            await asyncio.wait_for(cp._connection.wait_closed(), 10)
        assert await refused_with(bridge, cp_id) == 404
        status, _ = await api.arequest("DELETE", f"/api/chargepoints/{cp_id}/registration")
        assert status == 204
        status, _ = await api.arequest("GET", f"/api/chargepoints/{cp_id}/registration")
        assert status == 404


async def test_the_reject_policy_refuses_unknown_charge_points_until_registered(cp_id):
    with secured_bridge(unknownChargePoints="reject") as bridge:
        assert await refused_with(bridge, cp_id) == 404
        removed = chargepoint_command(bridge, "remove", cp_id)
        assert removed.returncode != 0 and "has no registration" in removed.stderr
        made = chargepoint_command(bridge, "set", cp_id, "--status", "Accepted")
        assert made.returncode == 0, made.stderr
        async with connect(bridge, cp_id) as cp:
            boot = await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
            assert boot.status == "Accepted"
        generated = chargepoint_command(bridge, "set", cp_id, "--generate-password")
        password = generated.stdout.strip()
        assert generated.returncode == 0 and len(password) == 24
        assert await refused_with(bridge, cp_id) == 401
        async with connect(bridge, cp_id, basic(cp_id, password)):
            pass
        bad = chargepoint_command(bridge, "set", cp_id, "--status", "Maybe")
        assert bad.returncode != 0 and "Accepted, Pending or Rejected" in bad.stderr
