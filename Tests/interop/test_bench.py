"""A short smoke run of the load generator (issue 7): `ocpp-bench` against the real bridge and against its own
echo peer completes without errors. It asserts nothing about speed: the figures are measured by hand
(docs/performance.md), not timed in CI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT, running_bridge

BENCH = Path(os.environ.get("OCPP_BRIDGE_BIN", "")).parent / "ocpp-bench"
pytestmark = pytest.mark.skipif(not BENCH.exists(), reason="ocpp-bench is built next to ocpp-bridge")


def bench(*args: str) -> dict:
    result = subprocess.run([str(BENCH), "run", *args, "--json"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_the_load_generator_runs_against_the_bridge():
    bench_config = (REPO_ROOT / "Tests/load/bench-config.yaml").read_text()
    ocpp_block = bench_config.split("ocpp:", 1)[1]
    with running_bridge("ocpp-bridge-bench-", config={"ocpp": ocpp_block.rstrip()}) as bridge:
        url = f"ws://127.0.0.1:{bridge.ocpp_port}/ocpp"
        for args in (("--chargepoints", "20", "--messages", "heartbeat,status,meter"),
                     ("--chargepoints", "5", "--protocol", "ocpp2.0.1", "--transactions", "--id-prefix", "B201-")):
            report = bench("--url", url, "--seconds", "2", "--warmup", "0.5", "--pid", str(bridge.proc.pid), *args)
            assert report["errors"] == 0 and report["calls"] > 0, report
            assert report["csmsRSSBytes"] > 0 and report["csmsCPUPercent"] >= 0, report


@pytest.mark.parametrize("transport", ["nio", "hummingbird"])
def test_the_load_generator_runs_against_its_echo_peer(transport):
    echo = subprocess.Popen([str(BENCH), "echo", "--port", "0", "--transport", transport], stdout=subprocess.PIPE, text=True)
    try:
        line = echo.stdout.readline()
        port = re.search(r"listening echo=[0-9.]+:(\d+)", line).group(1)
        report = bench("--url", f"ws://127.0.0.1:{port}/ocpp", "--chargepoints", "10", "--seconds", "1", "--warmup", "0.5")
        assert report["errors"] == 0 and report["calls"] > 0, report
    finally:
        echo.terminate()
        echo.wait(timeout=10)
