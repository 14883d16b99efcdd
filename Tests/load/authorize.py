#!/usr/bin/env python3
"""A bounded load run for script-decided Authorize: N charge points alternate Heartbeat (answered by the
bridge alone) and Authorize (decided by a Lua `on_request` handler through the tag handshake), closed loop.

Prints decisions/s and the latency of both, so the difference is what a script decision adds.
Loopback only; stops by itself after --seconds.

    .venv/bin/python Tests/load/authorize.py --ocpp ws://127.0.0.1:9000/ocpp --chargepoints 50 --seconds 15
"""
import argparse
import asyncio
import json
import time

import websockets


async def charge_point(url, cp, deadline, heartbeat, authorize, errors):
    async with websockets.connect(f"{url}/{cp}", subprotocols=["ocpp1.6"], max_queue=None) as ws:
        n = 0
        while time.monotonic() < deadline:
            for action, payload, sink in (("Heartbeat", {}, heartbeat), ("Authorize", {"idTag": f"LOAD{n % 97}"}, authorize)):
                n += 1
                started = time.perf_counter()
                await ws.send(json.dumps([2, str(n), action, payload]))
                answer = json.loads(await ws.recv())
                sink.append(time.perf_counter() - started)
                if answer[0] != 3 or (action == "Authorize" and answer[2]["idTagInfo"]["status"] != "Accepted"):
                    errors.append(answer)


def summary(name, values, elapsed):
    values.sort()
    def pct(p):
        return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000
    return (f"{name}: {len(values)} calls, {len(values) / elapsed:.0f}/s; latency ms p50 {pct(50):.2f} "
            f"p90 {pct(90):.2f} p99 {pct(99):.2f} max {values[-1] * 1000:.2f}")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ocpp", default="ws://127.0.0.1:9000/ocpp")
    parser.add_argument("--chargepoints", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    heartbeat, authorize, errors = [], [], []
    started = time.monotonic()
    deadline = started + args.seconds
    await asyncio.gather(*(charge_point(args.ocpp, f"AUTH{i:05d}", deadline, heartbeat, authorize, errors)
                           for i in range(args.chargepoints)))
    elapsed = time.monotonic() - started
    print(f"charge points {args.chargepoints}, {elapsed:.1f} s, errors {len(errors)} {errors[:3]}")
    print(summary("Heartbeat (bridge alone)", heartbeat, elapsed))
    print(summary("Authorize (Lua on_request via the tag handshake)", authorize, elapsed))


if __name__ == "__main__":
    asyncio.run(main())
