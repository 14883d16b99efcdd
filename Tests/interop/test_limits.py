"""The limits of docs/security.md, each driven past its edge against the real binary: message size, open
connections, the handshake and idle timeouts, pending and queued CALLs, the message rate, the REST body."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import websockets
from websockets.typing import Subprotocol

from conftest import Bridge

LIMITS = {
    "ocpp": "\n  maxMessageSize: 2048\n  maxConnections: 3\n  handshakeTimeout: 0.5\n  idleTimeout: 3"
            "\n  maxPendingCalls: 2\n  maxQueuedCalls: 2",
    "api": "\n  maxBodySize: 1024",
    "decisionTimeout": "1",
    "callTimeout": "1.5",
}
# The message rate gets a bridge of its own, so that no other limit interferes.
RATE = {"ocpp": "\n  messagesPerSecond: 5\n  burst: 6"}


@contextlib.contextmanager
def bridge_with(config: dict[str, str]):
    with tempfile.TemporaryDirectory(prefix="ocpp-bridge-limits-") as tmp:
        bridge = Bridge(Path(tmp), config=config)
        bridge.start()
        try:
            yield bridge
        finally:
            bridge.stop()


@pytest.fixture(scope="module")
def limited():
    with bridge_with(LIMITS) as bridge:
        yield bridge


@pytest.fixture(scope="module")
def rated():
    with bridge_with(RATE) as bridge:
        yield bridge


@contextlib.asynccontextmanager
async def raw(bridge: Bridge, cp_id: str):
    ws = await websockets.connect(bridge.ws_url(cp_id), subprotocols=[Subprotocol("ocpp1.6")], proxy=None, open_timeout=5,
                                  max_size=None)
    try:
        yield ws
    finally:
        with contextlib.suppress(Exception):
            await ws.close()


def frame(action: str, payload: dict, msg_id: str | None = None) -> str:
    return json.dumps([2, msg_id or uuid.uuid4().hex[:12], action, payload])


async def replies(ws, count: int, timeout: float = 5.0) -> list[list]:
    out = []
    with contextlib.suppress(asyncio.TimeoutError):
        async with asyncio.timeout(timeout):
            while len(out) < count:
                out.append(json.loads(await ws.recv()))
    return out


async def test_a_message_over_max_message_size_closes_the_connection(limited, cp_id):
    async with raw(limited, cp_id) as ws:
        await ws.send(frame("DataTransfer", {"vendorId": "x", "data": "y" * 3000}))
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009, closed.value


async def test_connections_over_max_connections_are_refused_with_503(limited, cp_id):
    async with contextlib.AsyncExitStack() as stack:
        for n in range(3):
            await stack.enter_async_context(raw(limited, f"{cp_id}-{n}"))
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with raw(limited, f"{cp_id}-over"):
                pass
        assert refused.value.response.status_code == 503
    # Once one closes, there is room again.
    await asyncio.sleep(0.3)
    async with raw(limited, f"{cp_id}-again"):
        pass
    assert "connections are open" in limited.log_text()


async def test_connections_opened_all_at_once_never_go_over_max_connections(limited, cp_id):
    # The limit is checked and counted in one step when the upgrade is decided: twelve charge points connecting
    # at the same moment get at most three connections, whichever event loop decides each.
    await asyncio.sleep(0.3)  # the connections of the tests before have closed
    async with contextlib.AsyncExitStack() as stack:
        attempts = [stack.enter_async_context(raw(limited, f"{cp_id}-{n}")) for n in range(12)]
        results = await asyncio.gather(*attempts, return_exceptions=True)
        opened = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, websockets.exceptions.InvalidStatus)]
        assert len(opened) <= 3, f"{len(opened)} connections opened over a limit of 3"
        assert len(opened) + len(refused) == 12, results
        assert all(r.response.status_code == 503 for r in refused)


async def test_a_connection_that_never_asks_for_the_upgrade_is_closed(limited):
    def silent_and_slow():
        results = []
        for first_bytes in (b"", b"GET /ocpp/SLOW HTTP/1.1\r\nHost: x\r\n"):
            with socket.create_connection(("127.0.0.1", limited.ocpp_port), timeout=5) as s:
                s.sendall(first_bytes)
                started = time.monotonic()
                data = s.recv(1024)  # b"" once the bridge closes it
                results.append((data, time.monotonic() - started))
        return results
    for data, waited in await asyncio.to_thread(silent_and_slow):
        assert data == b"" and 0.3 < waited < 3.0, (data, waited)


async def test_a_silent_charge_point_is_disconnected_after_the_idle_timeout(limited, cp_id):
    async with raw(limited, cp_id) as ws:
        started = time.monotonic()
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 6)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert 2.9 < time.monotonic() - started < 6.5
    async with raw(limited, f"{cp_id}-talks") as ws:
        for _ in range(4):
            await ws.send(frame("Heartbeat", {}))
            assert (await replies(ws, 1))[0][0] == 3
            await asyncio.sleep(1.5)  # 6 s in all, past the timeout, but never silent for 3 s


async def test_calls_beyond_max_pending_calls_get_a_generic_error(limited, cp_id):
    async with raw(limited, cp_id) as ws:
        # Authorize waits for a decider (nobody answers: the default comes after decisionTimeout).
        ids = [f"auth-{n}" for n in range(4)]
        for msg_id in ids:
            await ws.send(frame("Authorize", {"idTag": "WAITING"}, msg_id))
        got = {msg[1]: msg for msg in await replies(ws, 4, timeout=8)}
        assert got["auth-2"][0] == 4 and got["auth-2"][2] == "GenericError", got["auth-2"]
        assert got["auth-3"][0] == 4 and got["auth-3"][2] == "GenericError"
        assert got["auth-0"][0] == 3 and got["auth-1"][0] == 3, "the first two are answered (default Invalid)"
        assert "CALLs are waiting for their answer" in got["auth-2"][3]


async def test_messages_over_the_rate_are_refused_and_a_flood_is_disconnected(rated, cp_id):
    async with raw(rated, cp_id) as ws:
        for n in range(9):
            await ws.send(frame("Heartbeat", {}, f"hb-{n}"))
        got = await replies(ws, 9)
        answered = [m for m in got if m[0] == 3]
        refused = [m for m in got if m[0] == 4]
        assert len(answered) == 6 and len(refused) == 3, got
        assert all(m[2] == "GenericError" and "rate limit" in m[3] for m in refused)
    async with raw(rated, f"{cp_id}-flood") as ws:
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            for n in range(200):
                await ws.send(frame("Heartbeat", {}, f"f-{n}"))
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_bridge_calls_beyond_max_queued_calls_get_429(limited, cp_id):
    async with raw(limited, cp_id) as ws:
        await ws.send(frame("Heartbeat", {}))
        await replies(ws, 1)
        api = limited.api
        # The charge point never answers: two calls wait (one in flight, one queued), the third is refused.
        calls = [asyncio.create_task(api.call(cp_id, "ClearCache", {})) for _ in range(2)]
        await asyncio.sleep(0.5)
        status, body = await api.call(cp_id, "ClearCache", {})
        assert status == 429 and body["error"]["code"] == "Busy", body
        results = await asyncio.gather(*calls)
        assert [status for status, _ in results] == [504, 504], results


async def test_a_rest_body_over_max_body_size_gets_413(limited):
    status, body = await limited.api.arequest("PUT", "/api/tags/Test.Big", {"value": "x" * 2000})
    assert status == 413, (status, body)
    status, _ = await limited.api.arequest("PUT", "/api/tags/Test.Small", {"value": "x" * 100})
    assert status == 200
