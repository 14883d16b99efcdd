"""A third-party OCPP 2.0.1 CSMS for the 2.0.1 proxy tests, built on the PyPI `ocpp` library's v201 server
side: it validates every payload the bridge relays against the official OCPP 2.0.1 schemas and records
everything it receives. idTokens starting with CSMSBLOCK are Blocked, all others Accepted."""

from __future__ import annotations

from ocpp.routing import on
from ocpp.v201 import ChargePoint as _V201ChargePoint
from ocpp.v201 import call_result

from csms import Csms, RecordingSession, _now


def _token_info(id_token: dict | None) -> dict | None:
    if id_token is None:
        return None
    return {"status": "Blocked" if id_token["id_token"].startswith("CSMSBLOCK") else "Accepted"}


class Csms201Session(RecordingSession, _V201ChargePoint):
    """The CSMS's view of one charging station (here: the bridge, relaying it)."""

    __test__ = False

    @on("BootNotification")
    def on_boot(self, **kw):
        self._record("BootNotification", kw)
        return call_result.BootNotification(current_time=_now(), interval=600, status="Accepted")

    @on("Heartbeat")
    def on_heartbeat(self, **kw):
        self._record("Heartbeat", kw)
        return call_result.Heartbeat(current_time=_now())

    @on("StatusNotification")
    def on_status(self, **kw):
        self._record("StatusNotification", kw)
        return call_result.StatusNotification()

    @on("MeterValues")
    def on_meter_values(self, **kw):
        self._record("MeterValues", kw)
        return call_result.MeterValues()

    @on("Authorize")
    def on_authorize(self, **kw):
        self._record("Authorize", kw)
        return call_result.Authorize(id_token_info=_token_info(kw["id_token"]))

    @on("TransactionEvent")
    def on_transaction_event(self, **kw):
        self._record("TransactionEvent", kw)
        return call_result.TransactionEvent(id_token_info=_token_info(kw.get("id_token")))

    @on("DataTransfer")
    def on_data_transfer(self, **kw):
        self._record("DataTransfer", kw)
        return call_result.DataTransfer(status="Accepted", data=f"csms:{kw.get('data')}")


class Csms201(Csms):
    """Serves `ws://127.0.0.1:PORT/ocpp/{id}` with subprotocol ocpp2.0.1 (Csms with 2.0.1 sessions)."""

    session_class = Csms201Session
    subprotocol = "ocpp2.0.1"
