"""Proxy mode against a real upstream: a CSMS built on the PyPI `ocpp` library's server side (csms.py),
which validates every relayed payload against the official schemas. Each test starts its own CSMS and
bridge (`--upstream`), so outages and restarts stay contained."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import tempfile
from pathlib import Path

import pytest
from ocpp.v16 import call

from conftest import Bridge, charge_point, utcnow
from csms import Csms
from test_scripts import TEST_SCRIPTS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PROXY_CONFIG = {
    "routing": None,  # the defaults with an upstream: decisions forwarded, notifications local + copied
    "replayInterval": "0.02",
    "decisionDefaults": "\n  Authorize: Accepted\n  StartTransaction: Accepted\n  StopTransaction: Accepted\n  DataTransfer: Rejected",
    "decisionTimeout": "0.5",
}


@contextlib.contextmanager
def proxy_bridge(upstream_url: str, workdir: Path | None = None, extra_args: tuple[str, ...] = ()):
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ocpp-bridge-proxy-")))
        bridge = Bridge(workdir, extra_args=("--upstream", upstream_url, *extra_args), config=PROXY_CONFIG)
        bridge.start()
        try:
            yield bridge
        finally:
            bridge.stop()


async def test_decisions_are_forwarded_and_transaction_ids_mapped(cp_id):
    csms = await Csms(first_transaction_id=7000).start()
    try:
        with proxy_bridge(csms.url) as bridge:
            api = bridge.api
            async with charge_point(bridge, cp_id) as cp:
                await csms.wait_session(cp_id)
                await api.wait_tag(f"{cp_id}.Upstream.primary.Online", True)
                boot = await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
                assert boot.status == "Accepted"
                await csms.wait_for(cp_id, "BootNotification")

                blocked = await cp.call(call.Authorize(id_tag="CSMSBLOCK1"))
                assert blocked.id_tag_info["status"] == "Blocked", "the CSMS decided, not the local default (Accepted)"
                start = await cp.call(call.StartTransaction(connector_id=1, id_tag="USER1", meter_start=100, timestamp=utcnow()))
                assert start.id_tag_info["status"] == "Accepted"
                local_id = start.transaction_id
                assert local_id < 7000, "the charge point sees the bridge's id"
                csms_start = (await csms.wait_for(cp_id, "StartTransaction"))[0]
                assert csms_start["id_tag"] == "USER1"
                remote_id = 7000

                await cp.call(call.MeterValues(connector_id=1, transaction_id=local_id, meter_value=[
                    {"timestamp": utcnow(), "sampled_value": [{"value": "150"}]}]))
                meter = (await csms.wait_for(cp_id, "MeterValues"))[0]
                assert meter["transaction_id"] == remote_id, "the upstream sees its own id"

                # The CSMS stops its transaction: the charge point gets the bridge's id.
                session = csms.sessions[cp_id]
                stop_request = await session.call(call.RemoteStopTransaction(transaction_id=remote_id))
                assert stop_request.status == "Accepted"
                received = await cp.wait_received("RemoteStopTransaction")
                assert received["transaction_id"] == local_id

                stop = await cp.call(call.StopTransaction(transaction_id=local_id, meter_stop=200, timestamp=utcnow(), id_tag="USER1"))
                assert stop.id_tag_info["status"] == "Accepted"
                csms_stop = (await csms.wait_for(cp_id, "StopTransaction"))[0]
                assert csms_stop["transaction_id"] == remote_id

                data = await cp.call(call.DataTransfer(vendor_id="x", data="hello"))
                assert data.status == "Accepted" and data.data == "csms:hello"

                # A CSMS-initiated read goes down and its answer comes back.
                config = await session.call(call.GetConfiguration(key=["HeartbeatInterval"]))
                assert (await cp.wait_received("GetConfiguration"))["key"] == ["HeartbeatInterval"]
                assert config is not None
                # The bridge sent the standard header.
                assert all("upgrade" in h.lower() for h in csms.connection_headers)
    finally:
        await csms.stop()


async def test_an_outage_queues_transactions_and_replays_them_in_order_with_the_csms_ids(cp_id):
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ocpp"
    with proxy_bridge(url) as bridge:
        api = bridge.api
        async with charge_point(bridge, cp_id) as cp:
            await api.wait_tag(f"{cp_id}.Upstream.primary.Online", False)
            # The CSMS is down: the bridge answers itself (tags decide; nobody answers, so the default applies).
            start = await cp.call(call.StartTransaction(connector_id=1, id_tag="OFFLINE1", meter_start=10, timestamp=utcnow()))
            assert start.id_tag_info["status"] == "Accepted"
            local_id = start.transaction_id
            await cp.call(call.MeterValues(connector_id=1, transaction_id=local_id, meter_value=[
                {"timestamp": utcnow(), "sampled_value": [{"value": "20"}]}]))
            await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
            await cp.call(call.StopTransaction(transaction_id=local_id, meter_stop=30, timestamp=utcnow()))
            await api.wait_tag(f"{cp_id}.Upstream.primary.QueueDepth", 3)

            csms = await Csms(first_transaction_id=9100, port=port).start()
            try:
                starts = await csms.wait_for(cp_id, "StartTransaction", timeout=20)
                stops = await csms.wait_for(cp_id, "StopTransaction", timeout=20)
                meters = await csms.wait_for(cp_id, "MeterValues", timeout=20)
                assert starts[0]["id_tag"] == "OFFLINE1"
                assert meters[0]["transaction_id"] == 9100
                assert stops[0]["transaction_id"] == 9100
                order = [a for c, a, _ in csms.received if c == cp_id and a in ("StartTransaction", "MeterValues", "StopTransaction")]
                assert order == ["StartTransaction", "MeterValues", "StopTransaction"]
                # StatusNotification is not queued (the current state is sent again instead).
                assert csms.of(cp_id, "StatusNotification") == []
                await api.wait_tag(f"{cp_id}.Upstream.primary.QueueDepth", 0)
            finally:
                await csms.stop()


async def test_the_queue_survives_sigkill_and_is_sent_once(cp_id):
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ocpp"
    with tempfile.TemporaryDirectory(prefix="ocpp-bridge-proxy-kill-") as tmp:
        workdir = Path(tmp)
        bridge = Bridge(workdir, extra_args=("--upstream", url), config=PROXY_CONFIG)
        bridge.start()
        try:
            async with charge_point(bridge, cp_id) as cp:
                start = await cp.call(call.StartTransaction(connector_id=2, id_tag="KILL1", meter_start=0, timestamp=utcnow()))
                await cp.call(call.StopTransaction(transaction_id=start.transaction_id, meter_stop=5, timestamp=utcnow()))
                await bridge.api.wait_tag(f"{cp_id}.Upstream.primary.QueueDepth", 2)
        finally:
            bridge.proc.send_signal(signal.SIGKILL)
            bridge.proc.wait(timeout=5)
            bridge.log_file.close()
        again = Bridge(workdir, extra_args=("--upstream", url), config=PROXY_CONFIG)
        csms = await Csms(first_transaction_id=4200, port=port).start()
        again.start()
        try:
            async with charge_point(again, cp_id):
                starts = await csms.wait_for(cp_id, "StartTransaction", timeout=20)
                stops = await csms.wait_for(cp_id, "StopTransaction", timeout=20)
                assert stops[0]["transaction_id"] == 4200
                await again.api.wait_tag(f"{cp_id}.Upstream.primary.QueueDepth", 0)
                await asyncio.sleep(0.5)
                assert len(csms.of(cp_id, "StartTransaction")) == 1 and len(csms.of(cp_id, "StopTransaction")) == 1
                assert starts[0]["id_tag"] == "KILL1"
        finally:
            again.stop()
            await csms.stop()


async def test_csms_calls_and_bridge_calls_share_the_one_outstanding_call(cp_id):
    csms = await Csms().start()
    try:
        with proxy_bridge(csms.url) as bridge:
            api = bridge.api
            async with charge_point(bridge, cp_id) as cp:
                session = await csms.wait_session(cp_id)
                await api.wait_tag(f"{cp_id}.Upstream.primary.Online", True)
                from_csms = asyncio.create_task(session.call(call.TriggerMessage(requested_message="Heartbeat")))
                from_rest = asyncio.create_task(api.call(cp_id, "TriggerMessage", {"requestedMessage": "StatusNotification"}))
                answer = await asyncio.wait_for(from_csms, 10)
                status, body = await asyncio.wait_for(from_rest, 10)
                assert answer.status == "Accepted"
                assert status == 200 and body["result"]["status"] == "Accepted"
                kinds = sorted(kw["requested_message"] for a, kw in cp.received if a == "TriggerMessage")
                assert kinds == ["Heartbeat", "StatusNotification"]
    finally:
        await csms.stop()


async def test_a_resent_start_transaction_is_not_sent_upstream_twice(cp_id):
    csms = await Csms(first_transaction_id=3000).start()
    try:
        with proxy_bridge(csms.url) as bridge:
            async with charge_point(bridge, cp_id) as cp:
                await csms.wait_session(cp_id)
                await bridge.api.wait_tag(f"{cp_id}.Upstream.primary.Online", True)
                stamp = utcnow()
                first = await cp.call(call.StartTransaction(connector_id=1, id_tag="TWICE1", meter_start=7, timestamp=stamp))
                again = await cp.call(call.StartTransaction(connector_id=1, id_tag="TWICE1", meter_start=7, timestamp=stamp))
                assert again.transaction_id == first.transaction_id
                await asyncio.sleep(0.5)
                assert len(csms.of(cp_id, "StartTransaction")) == 1
    finally:
        await csms.stop()


async def test_a_secondary_gets_copies_with_its_own_ids_and_may_only_read(cp_id):
    primary = await Csms(first_transaction_id=100).start()
    secondary = await Csms(first_transaction_id=800).start()
    try:
        with tempfile.TemporaryDirectory(prefix="ocpp-bridge-proxy-2-") as tmp:
            bridge = Bridge(Path(tmp), extra_args=("--upstream", primary.url, "--upstream", secondary.url), config=PROXY_CONFIG)
            bridge.start()
            try:
                api = bridge.api
                async with charge_point(bridge, cp_id) as cp:
                    await api.wait_tag(f"{cp_id}.Upstream.primary.Online", True)
                    await api.wait_tag(f"{cp_id}.Upstream.secondary1.Online", True)
                    auth = await cp.call(call.Authorize(id_tag="CSMSBLOCK9"))
                    assert auth.id_tag_info["status"] == "Blocked"  # the primary's answer
                    start = await cp.call(call.StartTransaction(connector_id=1, id_tag="BOTH1", meter_start=1, timestamp=utcnow()))
                    await cp.call(call.StopTransaction(transaction_id=start.transaction_id, meter_stop=2, timestamp=utcnow()))
                    assert (await primary.wait_for(cp_id, "StopTransaction"))[0]["transaction_id"] == 100
                    assert (await secondary.wait_for(cp_id, "StopTransaction"))[0]["transaction_id"] == 800
                    await secondary.wait_for(cp_id, "Authorize")

                    session = secondary.sessions[cp_id]
                    read = await session.call(call.GetConfiguration(key=["MeterValueSampleInterval"]))
                    assert read is not None
                    assert (await cp.wait_received("GetConfiguration"))["key"] == ["MeterValueSampleInterval"]
                    # A write from a secondary is refused with a CALLERROR and never reaches the charge point.
                    from ocpp.exceptions import OCPPError
                    with pytest.raises(OCPPError):
                        await session.call(call.Reset(type="Hard"), suppress=False)
                    assert [a for a, _ in cp.received if a == "Reset"] == []
            finally:
                bridge.stop()
    finally:
        await primary.stop()
        await secondary.stop()


async def test_failover_to_a_named_secondary_and_failback(cp_id):
    primary_port = free_port()
    primary_url = f"ws://127.0.0.1:{primary_port}/ocpp"
    backup = await Csms(first_transaction_id=600).start()
    config = dict(PROXY_CONFIG)
    config["failover"] = "\n  to: secondary1\n  after: 0.5\n  failback: true"
    try:
        with tempfile.TemporaryDirectory(prefix="ocpp-bridge-failover-") as tmp:
            bridge = Bridge(Path(tmp), extra_args=("--upstream", primary_url, "--upstream", backup.url), config=config)
            bridge.start()
            try:
                api = bridge.api
                async with charge_point(bridge, cp_id) as cp:
                    await api.wait_tag(f"{cp_id}.Upstream.secondary1.Online", True)
                    await asyncio.sleep(0.6)
                    # The primary is down: the backup decides (the local default would be Accepted).
                    auth = await cp.call(call.Authorize(id_tag="CSMSBLOCK2"))
                    assert auth.id_tag_info["status"] == "Blocked"
                    await api.wait_tag(f"{cp_id}.Upstream.Active", "secondary1")
                    primary = await Csms(first_transaction_id=100, port=primary_port).start()
                    try:
                        await api.wait_tag(f"{cp_id}.Upstream.primary.Online", True, timeout=15)
                        await cp.call(call.Authorize(id_tag="BACKHOME"))
                        await primary.wait_for(cp_id, "Authorize")
                        await api.wait_tag(f"{cp_id}.Upstream.Active", "primary")
                    finally:
                        await primary.stop()
            finally:
                bridge.stop()
    finally:
        await backup.stop()


async def test_a_script_call_and_a_csms_call_collide_and_both_get_their_own_answer(cp_id):
    csms = await Csms().start()
    try:
        with tempfile.TemporaryDirectory(prefix="ocpp-bridge-proxy-script-") as tmp:
            scripts = Path(tmp) / "scripts"
            scripts.mkdir()
            (scripts / "ask.lua").write_text(TEST_SCRIPTS["40_ask.lua"])
            bridge = Bridge(Path(tmp), extra_args=("--upstream", csms.url, "--scripts", str(scripts)), config=PROXY_CONFIG)
            bridge.start()
            try:
                api = bridge.api
                async with charge_point(bridge, cp_id) as cp:
                    session = await csms.wait_session(cp_id)
                    await api.wait_tag(f"{cp_id}.Upstream.primary.Online", True)
                    from_csms = asyncio.create_task(session.call(call.GetConfiguration(key=["HeartbeatInterval"])))
                    await api.aput_tag(f"{cp_id}.Ask", "MeterValues")
                    await asyncio.wait_for(from_csms, 10)
                    await api.wait_tag(f"{cp_id}.AskResult", "Accepted")
                    actions = [a for a, _ in cp.received]
                    assert "GetConfiguration" in actions and "TriggerMessage" in actions
                    # The script's answer never reached the CSMS: it only ever got answers to its own CALL.
                    assert csms.of(cp_id, "TriggerMessage") == []
            finally:
                bridge.stop()
    finally:
        await csms.stop()
