"""Proxy mode for OCPP 2.0.1 charging stations against a real 2.0.1 upstream (csms201.py, the PyPI `ocpp`
library's v201 server side, which validates every relayed payload against the official schemas)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

import pytest
from ocpp.routing import on
from ocpp.v201 import ChargePoint as V201ChargePoint
from ocpp.v201 import call, call_result

from conftest import charge_point
from csms201 import Csms201
from test_proxy import free_port, proxy_bridge


def utcnow() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Station(V201ChargePoint):
    """A 2.0.1 station that records the CSMS calls it gets and accepts them."""

    __test__ = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.got: list[tuple[str, dict]] = []

    @on("RequestStopTransaction")
    def on_request_stop(self, **kw):
        self.got.append(("RequestStopTransaction", kw))
        return call_result.RequestStopTransaction(status="Accepted")

    @on("GetVariables")
    def on_get_variables(self, **kw):
        self.got.append(("GetVariables", kw))
        return call_result.GetVariables(get_variable_result=[
            {"attribute_status": "Accepted", "attribute_value": "60", "component": {"name": "OCPPCommCtrlr"},
             "variable": {"name": "HeartbeatInterval"}}])

    async def wait_got(self, action: str, timeout: float = 10.0) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for name, kw in self.got:
                if name == action:
                    return kw
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the station never got {action}; got {[n for n, _ in self.got]}")
            await asyncio.sleep(0.05)


def station(bridge, cp_id):
    return charge_point(bridge, cp_id, cls=Station, subprotocols=("ocpp2.0.1",))


def event(kind: str, tx: str, seq: int, trigger: str, *, token: str | None = None, wh: float | None = None):
    meter = None
    if wh is not None:
        meter = [{"timestamp": utcnow(), "sampled_value": [{"value": wh, "measurand": "Energy.Active.Import.Register"}]}]
    return call.TransactionEvent(
        event_type=kind, timestamp=utcnow(), trigger_reason=trigger, seq_no=seq,
        transaction_info={"transaction_id": tx}, evse={"id": 1, "connector_id": 1} if kind == "Started" else None,
        id_token={"id_token": token, "type": "ISO14443"} if token else None, meter_value=meter)


async def test_2_0_1_decisions_are_forwarded_with_the_stations_ids(cp_id):
    csms = await Csms201().start()
    secondary = await Csms201().start()
    try:
        with proxy_bridge(csms.url, extra_args=("--upstream", secondary.url)) as bridge:
            api = bridge.api
            async with station(bridge, cp_id) as cp:
                await csms.wait_session(cp_id)
                await api.wait_tag(f"{cp_id}.Upstream.primary.Online", True)
                await api.wait_tag(f"{cp_id}.Upstream.secondary1.Online", True)
                boot = await cp.call(call.BootNotification(
                    charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"))
                assert boot.status == "Accepted"
                await csms.wait_for(cp_id, "BootNotification")

                blocked = await cp.call(call.Authorize(id_token={"id_token": "CSMSBLOCK1", "type": "ISO14443"}))
                assert blocked.id_token_info["status"] == "Blocked", "the CSMS decided, not the local default (Accepted)"

                refused = await cp.call(event("Started", f"tx-{uuid.uuid4().hex[:8]}", 0, "Authorized", token="CSMSBLOCK2"))
                assert refused.id_token_info["status"] == "Blocked", "the CSMS decided the transaction's token"

                tx = f"tx-{uuid.uuid4().hex[:8]}"
                started = await cp.call(event("Started", tx, 0, "Authorized", token="USER1", wh=100))
                assert started.id_token_info["status"] == "Accepted"
                upstream_start = (await csms.wait_for(cp_id, "TransactionEvent", count=2))[1]
                assert upstream_start["transaction_info"]["transaction_id"] == tx, "no id mapping in 2.0.1"
                await api.wait_tag(f"{cp_id}.Connector1.Transaction.Id", tx)

                # The CSMS stops the transaction with the station's id; the station gets it unchanged.
                session = csms.sessions[cp_id]
                answer = await session.call(call.RequestStopTransaction(transaction_id=tx))
                assert answer.status == "Accepted"
                assert (await cp.wait_got("RequestStopTransaction"))["transaction_id"] == tx

                ended = await cp.call(event("Ended", tx, 1, "RemoteStop", wh=250))
                assert ended.id_token_info is None
                events = await csms.wait_for(cp_id, "TransactionEvent", count=3)
                assert [e["event_type"] for e in events] == ["Started", "Started", "Ended"]
                await api.wait_tag(f"{cp_id}.Connector1.Transaction.Active", False)
                await api.wait_tag(f"{cp_id}.Connector1.Transaction.MeterStop", 250)

                # A CSMS-initiated read goes down and its answer comes back.
                variables = await session.call(call.GetVariables(get_variable_data=[
                    {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]))
                assert variables.get_variable_result[0]["attribute_value"] == "60"
                await cp.wait_got("GetVariables")

                # The secondary got copies of everything, with the station's ids, and may read but not write.
                copies = await secondary.wait_for(cp_id, "TransactionEvent", count=3)
                assert {e["transaction_info"]["transaction_id"] for e in copies[1:]} == {tx}
                await secondary.wait_for(cp_id, "Authorize")
                second = secondary.sessions[cp_id]
                await second.call(call.GetVariables(get_variable_data=[
                    {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]))
                from ocpp.exceptions import OCPPError
                with pytest.raises(OCPPError):
                    await second.call(call.RequestStopTransaction(transaction_id=tx), suppress=False)
                assert [n for n, _ in cp.got].count("RequestStopTransaction") == 1
    finally:
        await csms.stop()
        await secondary.stop()


async def test_2_0_1_transaction_events_are_queued_in_an_outage_and_replayed_in_order(cp_id):
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ocpp"
    with proxy_bridge(url) as bridge:
        api = bridge.api
        async with station(bridge, cp_id) as cp:
            await api.wait_tag(f"{cp_id}.Upstream.primary.Online", False)
            tx = f"tx-{uuid.uuid4().hex[:8]}"
            # The CSMS is down: the bridge decides (the test's decision default is Accepted).
            started = await cp.call(event("Started", tx, 0, "Authorized", token="OFFLINE1", wh=10))
            assert started.id_token_info["status"] == "Accepted"
            await cp.call(event("Updated", tx, 1, "MeterValuePeriodic", wh=20))
            await cp.call(call.StatusNotification(timestamp=utcnow(), connector_status="Occupied", evse_id=1, connector_id=1))
            await cp.call(event("Ended", tx, 2, "EVDeparted", wh=30))
            await api.wait_tag(f"{cp_id}.Upstream.primary.QueueDepth", 3)

            csms = await Csms201(port=port).start()
            try:
                events = await csms.wait_for(cp_id, "TransactionEvent", count=3, timeout=20)
                assert [(e["event_type"], e["seq_no"]) for e in events] == [("Started", 0), ("Updated", 1), ("Ended", 2)]
                assert {e["transaction_info"]["transaction_id"] for e in events} == {tx}
                # StatusNotification is not queued (the current state is sent again instead).
                assert csms.of(cp_id, "StatusNotification") == []
                await api.wait_tag(f"{cp_id}.Upstream.primary.QueueDepth", 0)
            finally:
                await csms.stop()
