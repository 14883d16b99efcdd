"""Raw OCPP-J and WebSocket checks: malformed frames, handshake details, reconnects, percent-encoded ids."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import urllib.parse

import pytest
from websockets.exceptions import ConnectionClosed

from conftest import assert_call_error, assert_heartbeat_works, charge_point, exchange, raw_ws

BOOT = {"chargePointModel": "RawModel", "chargePointVendor": "RawVendor"}


# ------------------------------------------------------------------------------------------
# Malformed and unexpected frames
# ------------------------------------------------------------------------------------------

async def test_not_json_is_formation_violation(bridge, api, cp_id):
    async with raw_ws(bridge, cp_id) as ws:
        assert ws.subprotocol == "ocpp1.6"
        msg = await exchange(ws, "this is { not json")
        assert_call_error(msg, "-1", "FormationViolation")
        await assert_heartbeat_works(ws)


@pytest.mark.parametrize("subprotocol", ["ocpp1.6", "ocpp2.0.1"])
async def test_unknown_action_is_not_implemented(bridge, api, cp_id, subprotocol):
    """NotImplemented is spelled the same in 1.6 and 2.0.1."""
    async with raw_ws(bridge, cp_id, subprotocols=(subprotocol,)) as ws:
        assert ws.subprotocol == subprotocol
        msg = await exchange(ws, [2, "u-1", "MakeCoffee", {"sugar": 2}])
        assert_call_error(msg, "u-1", "NotImplemented")
        await assert_heartbeat_works(ws)


async def test_missing_required_field_is_occurence_constraint_violation(bridge, api, cp_id):
    async with raw_ws(bridge, cp_id) as ws:
        msg = await exchange(ws, [2, "m-1", "BootNotification", {"chargePointVendor": "RawVendor"}])
        assert_call_error(msg, "m-1", "OccurenceConstraintViolation")
        await assert_heartbeat_works(ws)
        # Nothing of the rejected boot reached the tags.
        assert await api.aget_tag(f"{cp_id}.Boot.Vendor") is None


async def test_wrong_type_is_type_constraint_violation(bridge, api, cp_id):
    async with raw_ws(bridge, cp_id) as ws:
        msg = await exchange(ws, [2, "t-1", "StatusNotification",
                                  {"connectorId": "one", "errorCode": "NoError", "status": "Available"}])
        assert_call_error(msg, "t-1", "TypeConstraintViolation")
        await assert_heartbeat_works(ws)


async def test_unknown_callresult_id_is_dropped(bridge, api, cp_id):
    async with raw_ws(bridge, cp_id) as ws:
        await ws.send(json.dumps([3, "nobody-asked-this", {"status": "Accepted"}]))
        await ws.send(json.dumps([4, "nor-this", "GenericError", "", {}]))
        await assert_heartbeat_works(ws)


async def test_boot_over_raw_socket_answer_shape(bridge, api, cp_id):
    async with raw_ws(bridge, cp_id) as ws:
        msg = await exchange(ws, [2, "b-1", "BootNotification", BOOT])
        assert msg[0] == 3 and msg[1] == "b-1", msg
        assert msg[2]["status"] == "Accepted", msg
        assert isinstance(msg[2]["interval"], int), msg
        assert msg[2]["currentTime"].endswith("Z"), f"times must be sent as UTC with Z: {msg}"


# ------------------------------------------------------------------------------------------
# Handshake: Connection token lists, subprotocol negotiation
# ------------------------------------------------------------------------------------------

def masked_text_frame(text: str) -> bytes:
    payload = text.encode()
    header = bytearray([0x81])
    n = len(payload)
    if n < 126:
        header.append(0x80 | n)
    elif n < 65536:
        header.append(0x80 | 126)
        header += n.to_bytes(2, "big")
    else:
        header.append(0x80 | 127)
        header += n.to_bytes(8, "big")
    mask = os.urandom(4)
    header += mask
    return bytes(header) + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def read_text_frame(reader: asyncio.StreamReader) -> str:
    while True:
        b0, b1 = await reader.readexactly(2)
        opcode = b0 & 0x0F
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(await reader.readexactly(2), "big")
        elif n == 127:
            n = int.from_bytes(await reader.readexactly(8), "big")
        mask = await reader.readexactly(4) if b1 & 0x80 else None
        data = await reader.readexactly(n)
        assert mask is None, "server frames must not be masked"
        if opcode == 0x1:
            assert b0 & 0x80, "fragmented text frame not expected for a small answer"
            return data.decode()
        if opcode == 0x8:
            raise AssertionError(f"server closed: {data!r}")
        # ping/pong: ignore


async def raw_handshake(bridge, path: str, connection_header: str, protocol: str | None = "ocpp1.6"):
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", bridge.ocpp_port), 5)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{bridge.ocpp_port}",
        "Upgrade: websocket",
        f"Connection: {connection_header}",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if protocol:
        lines.append(f"Sec-WebSocket-Protocol: {protocol}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    return reader, writer, status_line, headers, accept


@pytest.mark.parametrize("connection", ["keep-alive, Upgrade", "Upgrade,Keep-Alive", "keep-alive,upgrade",
                                        "  KEEP-ALIVE ,  UPGRADE  "])
async def test_connection_header_token_list_accepted(bridge, api, cp_id, connection):
    reader, writer, status_line, headers, accept = await raw_handshake(bridge, f"/ocpp/{cp_id}", connection)
    try:
        assert status_line.startswith("HTTP/1.1 101"), (status_line, headers)
        assert headers.get("sec-websocket-accept") == accept, headers
        assert headers.get("sec-websocket-protocol") == "ocpp1.6", headers
        assert "upgrade" in [t.strip().lower() for t in headers.get("connection", "").split(",")], headers
        writer.write(masked_text_frame(json.dumps([2, "raw-boot", "BootNotification", BOOT])))
        await writer.drain()
        answer = json.loads(await asyncio.wait_for(read_text_frame(reader), 5))
        assert answer[0] == 3 and answer[1] == "raw-boot" and answer[2]["status"] == "Accepted", answer
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 2)
    await api.wait_tag(f"{cp_id}.Boot.Vendor", "RawVendor")


async def test_no_subprotocol_offered_falls_back_to_ocpp16(bridge, api, cp_id):
    async with raw_ws(bridge, cp_id, subprotocols=None) as ws:
        assert ws.subprotocol is None
        msg = await exchange(ws, [2, "b-1", "BootNotification", BOOT])
        assert msg[0] == 3 and msg[2]["status"] == "Accepted", msg
    await api.wait_tag(f"{cp_id}.Protocol", "ocpp1.6")


async def test_first_supported_subprotocol_wins(bridge, api, cp_id):
    async with raw_ws(bridge, cp_id, subprotocols=("ocpp1.5", "ocpp1.6")) as ws:
        assert ws.subprotocol == "ocpp1.6"
        await assert_heartbeat_works(ws)


async def test_unsupported_subprotocol_only_is_closed_1002(bridge, api, cp_id):
    reader, writer, status_line, headers, accept = await raw_handshake(
        bridge, f"/ocpp/{cp_id}", "Upgrade", protocol="ocpp9.9"
    )
    try:
        assert status_line.startswith("HTTP/1.1 101"), (status_line, headers)
        assert "sec-websocket-protocol" not in headers, headers
        # The server closes at once with 1002.
        b0, b1 = await asyncio.wait_for(reader.readexactly(2), 5)
        assert b0 & 0x0F == 0x8, f"expected a close frame, got opcode {b0 & 0x0F}"
        n = b1 & 0x7F
        body = await asyncio.wait_for(reader.readexactly(n), 5)
        assert n >= 2 and int.from_bytes(body[:2], "big") == 1002, body
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 2)


# ------------------------------------------------------------------------------------------
# Reconnects and ids
# ------------------------------------------------------------------------------------------

async def test_second_connection_replaces_first(bridge, api, cp_id):
    async with raw_ws(bridge, cp_id) as first:
        msg = await exchange(first, [2, "b-1", "BootNotification", BOOT])
        assert msg[0] == 3, msg
        async with raw_ws(bridge, cp_id) as second:
            # The first connection is closed by the bridge.
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(first.recv(), 5)
            # The newcomer works and the charge point stays online.
            await assert_heartbeat_works(second)
            await asyncio.sleep(0.5)
            await api.wait_tag(f"{cp_id}.Online", True)
            status, body = await api.chargepoint(cp_id)
            assert status == 200 and body["online"] is True, body
            # Calls go to the new connection.
            call_task = asyncio.create_task(api.call(cp_id, "ClearCache", {}))
            frame = json.loads(await asyncio.wait_for(second.recv(), 5))
            assert frame[0] == 2 and frame[2] == "ClearCache", frame
            await second.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
            status, body = await asyncio.wait_for(call_task, 10)
            assert status == 200 and body == {"result": {"status": "Accepted"}}, body


async def test_percent_encoded_id(bridge, api, cp_id):
    decoded = f"RDAM|123-{cp_id}"
    segment = urllib.parse.quote(decoded, safe="-")
    assert "%7C" in segment
    async with charge_point(bridge, decoded, path_segment=segment) as cp:
        from ocpp.v16 import call

        result = await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="Rdam"),
                               suppress=False)
        assert result.status == "Accepted"
        await api.wait_tag(f"{decoded}.Boot.Vendor", "Rdam")
        await api.wait_tag(f"{decoded}.Online", True)
        assert await api.aget_tag(f"{segment}.Boot.Vendor") is None
        status, body = await api.chargepoint(decoded)
        assert status == 200 and body["id"] == decoded, body
        status, body = await api.call(decoded, "ClearCache", {})
        assert status == 200, body


async def test_percent_encoded_space(bridge, api, cp_id):
    decoded = f"RDAM 123-{cp_id}"
    async with raw_ws(bridge, urllib.parse.quote(decoded, safe="-")) as ws:
        msg = await exchange(ws, [2, "b-1", "BootNotification", BOOT])
        assert msg[0] == 3, msg
    await api.wait_tag(f"{decoded}.Boot.Vendor", "RawVendor")


# ------------------------------------------------------------------------------------------
# Both directions at once
# ------------------------------------------------------------------------------------------

async def test_cp_call_answered_while_bridge_call_outstanding(bridge, api, cp_id):
    """The two directions are independent: while the bridge waits for the answer to its own CALL, a CALL
    from the charge point is still answered."""
    async with raw_ws(bridge, cp_id) as ws:
        msg = await exchange(ws, [2, "b-1", "BootNotification", BOOT])
        assert msg[0] == 3, msg
        rest = asyncio.create_task(api.call(cp_id, "ClearCache", {}))
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame[0] == 2 and frame[2] == "ClearCache", frame
        await assert_heartbeat_works(ws, "hb-during-call")
        await ws.send(json.dumps([3, frame[1], {"status": "Rejected"}]))
        status, body = await asyncio.wait_for(rest, 10)
        assert status == 200 and body == {"result": {"status": "Rejected"}}, body


async def test_bridge_call_sent_while_cp_decision_pending(bridge, api, cp_id):
    """While a charge point's Authorize waits for a decision through tags, the bridge can still send it a
    CALL (and get the answer), and the Authorize is answered afterwards."""
    async with raw_ws(bridge, cp_id) as ws:
        msg = await exchange(ws, [2, "b-1", "BootNotification", BOOT])
        assert msg[0] == 3, msg
        await ws.send(json.dumps([2, "auth-1", "Authorize", {"idTag": "NOBODYANSWERS"}]))
        await asyncio.sleep(0.2)
        rest = asyncio.create_task(api.call(cp_id, "ClearCache", {}))
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame[0] == 2 and frame[2] == "ClearCache", f"expected the bridge's CALL first, got {frame}"
        await ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
        status, body = await asyncio.wait_for(rest, 10)
        assert status == 200 and body == {"result": {"status": "Accepted"}}, body
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert answer[0] == 3 and answer[1] == "auth-1", answer
        assert answer[2] == {"idTagInfo": {"status": "Invalid"}}, answer
