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
import sqlite3
import time
import urllib.error
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


def visible_after(api: str, db: str, n: int) -> float:
    """Writes a tag into the SQLite file as another process would; returns seconds until the REST API shows it."""
    started = time.perf_counter()
    with sqlite3.connect(db, timeout=10) as conn:
        conn.execute("INSERT INTO tags (name, value, access) VALUES ('Probe.External', ?, 'rw') "
                     "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (n,))
    while time.perf_counter() - started < 10:
        try:
            body = json.loads(urllib.request.urlopen(f"{api}/api/tags/Probe.External", timeout=5).read())
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
            body = {}
        if body.get("value") == n:
            return time.perf_counter() - started
        time.sleep(0.002)
    return float("inf")


async def probe_external(api: str, db: str, deadline: float, sink: list):
    n = 0
    while time.monotonic() < deadline - 1:
        n += 1
        sink.append(await asyncio.to_thread(visible_after, api, db, n))
        await asyncio.sleep(0.5)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ocpp", default="ws://127.0.0.1:9000/ocpp")
    parser.add_argument("--api", default="http://127.0.0.1:8080")
    parser.add_argument("--chargepoints", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--db", help="the bridge's SQLite file: also measure how soon a write by another process shows")
    args = parser.parse_args()
    before = metrics(args.api)
    latencies, errors = [], []
    started = time.monotonic()
    deadline = started + args.seconds
    probes: list = []
    tasks = [charge_point(args.ocpp, f"LOAD{i:05d}", deadline, latencies, errors) for i in range(args.chargepoints)]
    if args.db:
        tasks.append(probe_external(args.api, args.db, deadline, probes))
    await asyncio.gather(*tasks)
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
    if probes:
        probes.sort()
        print(f"a write by another process (sqlite3) visible over REST after: median {probes[len(probes) // 2] * 1000:.0f} ms, "
              f"max {probes[-1] * 1000:.0f} ms ({len(probes)} probes)")


if __name__ == "__main__":
    asyncio.run(main())
