"""A third-party CSMS for the proxy tests, built on the PyPI `ocpp` library's server side: it validates
every payload the bridge relays against the official OCPP 1.6 schemas, answers with its own transaction ids,
and records everything it receives. It runs in the test's event loop on 127.0.0.1, port 0."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from datetime import datetime, timezone

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as _V16ChargePoint
from ocpp.v16 import call_result
from ocpp.v16.enums import Action


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class RecordingSession:
    """Mixin for a library ChargePoint class (v16 or v201) serving as the CSMS's session: `_record` notes
    every CALL in the CSMS's `received`."""

    def __init__(self, csms: "Csms", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.csms = csms

    def _record(self, action: str, kwargs: dict):
        self.csms.received.append((self.id, action, kwargs))
        self.csms.event.set()


class CsmsSession(RecordingSession, _V16ChargePoint):
    """The CSMS's view of one charge point (here: the bridge, relaying it)."""

    __test__ = False

    @on(Action.boot_notification)
    def on_boot(self, **kw):
        self._record("BootNotification", kw)
        return call_result.BootNotification(current_time=_now(), interval=600, status="Accepted")

    @on(Action.heartbeat)
    def on_heartbeat(self, **kw):
        self._record("Heartbeat", kw)
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    def on_status(self, **kw):
        self._record("StatusNotification", kw)
        return call_result.StatusNotification()

    @on(Action.meter_values)
    def on_meter_values(self, **kw):
        self._record("MeterValues", kw)
        return call_result.MeterValues()

    @on(Action.authorize)
    def on_authorize(self, **kw):
        self._record("Authorize", kw)
        status = "Blocked" if kw["id_tag"].startswith("CSMSBLOCK") else "Accepted"
        return call_result.Authorize(id_tag_info={"status": status})

    @on(Action.start_transaction)
    def on_start(self, **kw):
        self._record("StartTransaction", kw)
        tx = next(self.csms.ids)
        self.csms.transactions[tx] = kw
        status = "Blocked" if kw["id_tag"].startswith("CSMSBLOCK") else "Accepted"
        return call_result.StartTransaction(transaction_id=tx, id_tag_info={"status": status})

    @on(Action.stop_transaction)
    def on_stop(self, **kw):
        self._record("StopTransaction", kw)
        return call_result.StopTransaction(id_tag_info={"status": "Accepted"} if kw.get("id_tag") else None)

    @on(Action.data_transfer)
    def on_data_transfer(self, **kw):
        self._record("DataTransfer", kw)
        return call_result.DataTransfer(status="Accepted", data=f"csms:{kw.get('data')}")

    @on(Action.diagnostics_status_notification)
    def on_diag(self, **kw):
        self._record("DiagnosticsStatusNotification", kw)
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    def on_fw(self, **kw):
        self._record("FirmwareStatusNotification", kw)
        return call_result.FirmwareStatusNotification()


class Csms:
    """Serves `ws://127.0.0.1:PORT/ocpp/{id}` with `subprotocol`; `sessions[id]` is the live session
    (a `session_class`) of a charge point."""

    session_class: type = CsmsSession
    subprotocol = "ocpp1.6"

    def __init__(self, first_transaction_id: int = 5000, port: int = 0):
        self.ids = itertools.count(first_transaction_id)
        self.transactions: dict[int, dict] = {}
        self.received: list[tuple[str, str, dict]] = []
        self.sessions: dict[str, CsmsSession] = {}
        self.event = asyncio.Event()
        self.port = port
        self._server = None
        self.connection_headers: list[str] = []

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def start(self):
        async def handler(ws):
            self.connection_headers.append(ws.request.headers.get("Connection", ""))
            cp_id = ws.request.path.rstrip("/").split("/")[-1]
            session = self.session_class(self, cp_id, ws, response_timeout=10)
            self.sessions[cp_id] = session
            with contextlib.suppress(Exception):
                await session.start()

        self._server = await websockets.serve(handler, "127.0.0.1", self.port, subprotocols=[self.subprotocol])
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self):
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def of(self, cp_id: str, action: str) -> list[dict]:
        return [kw for cp, a, kw in self.received if cp == cp_id and a == action]

    async def wait_for(self, cp_id: str, action: str, count: int = 1, timeout: float = 10.0) -> list[dict]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = self.of(cp_id, action)
            if len(found) >= count:
                return found
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"CSMS did not receive {count} {action} from {cp_id}; got {[(c, a) for c, a, _ in self.received]}")
            self.event.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.event.wait(), min(left, 0.2))

    async def wait_session(self, cp_id: str, timeout: float = 10.0) -> CsmsSession:
        deadline = asyncio.get_running_loop().time() + timeout
        while cp_id not in self.sessions:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{cp_id} never connected to the CSMS")
            await asyncio.sleep(0.05)
        return self.sessions[cp_id]
