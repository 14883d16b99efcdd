#!/usr/bin/env python3
"""A bounded load run: N charge points send MeterValues in a closed loop against a running bridge.

Prints calls/s, latency percentiles and how the bridge batched its tag writes (from /metrics).
Loopback only; stops by itself after --seconds. Python's websockets client tops out near 17,000
round trips/s on this machine (docs/performance.md), so this measures the bridge only well below that;
the Swift load generator of the performance issue replaces it for peak figures.

    .venv/bin/python Tests/load/meter_values.py --ocpp ws://127.0.0.1:9000/ocpp --api http://127.0.0.1:8080 \
        --chargepoints 200 --seconds 20
"""
import argparse
import asyncio
import json
import re
import time
import urllib.request

import websockets


def metrics(api: str) -> dict:
    text = urllib.request.urlopen(f"{api}/metrics", timeout=5).read().decode()
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\w+) ([0-9.e+-]+)$", text, re.M)}


async def charge_point(url: str, cp: str, deadline: float, latencies: list, errors: list):
    async with websockets.connect(f"{url}/{cp}", subprotocols=["ocpp1.6"], max_queue=None) as ws:
        await ws.send(json.dumps([2, "b", "BootNotification", {"chargePointVendor": "Load", "chargePointModel": "M"}]))
        await ws.recv()
        n = 0
        while time.monotonic() < deadline:
            n += 1
            frame = [2, str(n), "MeterValues", {"connectorId": 1, "meterValue": [{
                "timestamp": "2026-01-01T00:00:00Z",
                "sampledValue": [
                    {"value": str(1000 + n), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                    {"value": "16.0", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
                ]}]}]
            started = time.perf_counter()
            await ws.send(json.dumps(frame))
            answer = json.loads(await ws.recv())
            latencies.append(time.perf_counter() - started)
            if answer[0] != 3:
                errors.append(answer)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ocpp", default="ws://127.0.0.1:9000/ocpp")
    parser.add_argument("--api", default="http://127.0.0.1:8080")
    parser.add_argument("--chargepoints", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    before = metrics(args.api)
    latencies, errors = [], []
    started = time.monotonic()
    deadline = started + args.seconds
    await asyncio.gather(*(charge_point(args.ocpp, f"LOAD{i:05d}", deadline, latencies, errors)
                           for i in range(args.chargepoints)))
    elapsed = time.monotonic() - started
    after = metrics(args.api)
    latencies.sort()
    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000
    flushes = after["ocpp_bridge_tag_flushes_total"] - before["ocpp_bridge_tag_flushes_total"]
    written = after["ocpp_bridge_tag_writes_flushed_total"] - before["ocpp_bridge_tag_writes_flushed_total"]
    print(f"charge points {args.chargepoints}, {elapsed:.1f} s, MeterValues calls {len(latencies)}, errors {len(errors)}")
    print(f"calls/s {len(latencies) / elapsed:.0f}; latency ms p50 {pct(50):.2f} p90 {pct(90):.2f} p99 {pct(99):.2f} max {latencies[-1] * 1000:.2f}")
    print(f"tag writes committed {written:.0f} in {flushes:.0f} SQLite transactions "
          f"({written / max(flushes, 1):.0f} per transaction; largest ever {after['ocpp_bridge_tag_largest_flush']:.0f})")


if __name__ == "__main__":
    asyncio.run(main())
