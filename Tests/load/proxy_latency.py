#!/usr/bin/env python3
"""What the bridge adds in proxy mode: Authorize round trips from a charge point straight to a CSMS, then
through the bridge (`--upstream`) to the same CSMS, closed loop, one charge point; then relay throughput with
several charge points. The CSMS is the PyPI `ocpp` library's server side (Tests/interop/csms.py), in this
process. Loopback only; bounded by --seconds.

    .venv/bin/python Tests/load/proxy_latency.py --bridge $(swift build -c release --show-bin-path)/ocpp-bridge
"""
import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from csms import Csms  # noqa: E402


async def closed_loop(url: str, cp: str, seconds: float, sink: list):
    async with websockets.connect(f"{url}/{cp}", subprotocols=["ocpp1.6"], max_queue=None) as ws:
        deadline = time.monotonic() + seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
            started = time.perf_counter()
            await ws.send(json.dumps([2, str(n), "Authorize", {"idTag": "LAT1"}]))
            answer = json.loads(await ws.recv())
            sink.append(time.perf_counter() - started)
            assert answer[0] == 3, answer


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bridge", required=True, help="the ocpp-bridge binary")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--chargepoints", type=int, default=20)
    args = parser.parse_args()
    csms = await Csms().start()
    direct: list = []
    await closed_loop(csms.url, "DIRECT1", args.seconds, direct)
    with tempfile.TemporaryDirectory() as tmp:
        log = open(Path(tmp) / "bridge.log", "wb")
        proc = subprocess.Popen([args.bridge, "serve", "--ocpp-host", "127.0.0.1", "--ocpp-port", "0", "--api-port", "0",
                                 "--db", f"{tmp}/b.sqlite", "--no-scripts", "--log-level", "info",
                                 "--mappings", str(Path(__file__).resolve().parents[2] / "mappings"),
                                 "--config", str(Path(__file__).resolve().parent / "bench-config.yaml"),
                                 "--upstream", csms.url], cwd=tmp, stdout=log, stderr=log)
        try:
            port = None
            for _ in range(200):
                text = (Path(tmp) / "bridge.log").read_text(errors="replace")
                m = re.search(r"listening ocpp=[0-9.]+:(\d+)", text)
                if m:
                    port = int(m.group(1))
                    break
                await asyncio.sleep(0.05)
            url = f"ws://127.0.0.1:{port}/ocpp"
            # Let the links come up before measuring.
            async with websockets.connect(f"{url}/VIA1", subprotocols=["ocpp1.6"]):
                await csms.wait_session("VIA1")
                await asyncio.sleep(1)  # the bridge's side of the upstream handshake completes a moment later
            via: list = []
            await closed_loop(url, "VIA1", args.seconds, via)
            many: list = []
            for i in range(args.chargepoints):  # connect them all first, so the links are up when timing starts
                async with websockets.connect(f"{url}/MANY{i}", subprotocols=["ocpp1.6"]):
                    await csms.wait_session(f"MANY{i}")
            await asyncio.sleep(1)
            started = time.monotonic()
            await asyncio.gather(*(closed_loop(url, f"MANY{i}", args.seconds, many) for i in range(args.chargepoints)))
            elapsed = time.monotonic() - started
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
    await csms.stop()
    print(f"direct to the CSMS:   {len(direct)} Authorize, p50 {pct(direct, 50):.3f} ms, p99 {pct(direct, 99):.3f} ms, "
          f"max {max(direct) * 1000:.1f} ms")
    print(f"through the bridge:   {len(via)} Authorize, p50 {pct(via, 50):.3f} ms, p99 {pct(via, 99):.3f} ms, "
          f"max {max(via) * 1000:.1f} ms")
    print(f"added by the bridge:  p50 {pct(via, 50) - pct(direct, 50):.3f} ms, p99 {pct(via, 99) - pct(direct, 99):.3f} ms")
    print(f"relay throughput:     {args.chargepoints} charge points, {len(many) / elapsed:.0f} forwarded Authorize/s "
          f"(p50 {pct(many, 50):.2f} ms, p99 {pct(many, 99):.2f} ms)")


if __name__ == "__main__":
    asyncio.run(main())
