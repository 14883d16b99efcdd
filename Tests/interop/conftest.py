"""Interop test harness: runs the real `ocpp-bridge` binary and talks to it as charge points
(the PyPI `ocpp` library, which validates every payload against the official OCPP 1.6 JSON schemas),
as a SCADA client (REST API) and over raw sockets. The version-independent helpers here (the recording
charge point, raw OCPP-J frames, times, payload comparison, command tags) serve the 1.6 tests and, through
`v201.py`, the 2.0.1 tests.

Environment:
- OCPP_BRIDGE_BIN (required): the bridge executable.
- OCPP_BRIDGE_MAPPINGS (optional): the mappings folder; default `<repo>/mappings`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http.client
import inspect
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.routing import on
from ocpp.v16 import ChargePoint as _V16ChargePoint
from ocpp.v16 import call as call16
from ocpp.v16 import call_result
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

REPO_ROOT = Path(__file__).resolve().parents[2]

# Timeouts (seconds) written into the bridge's config file; tests rely on them.
DECISION_TIMEOUT = 2.0
CALL_TIMEOUT = 3.0
HEARTBEAT_INTERVAL = 300

# No test may hang: every async test is wrapped in this deadline.
TEST_DEADLINE = 60.0
STARTUP_TIMEOUT = 20.0


# --------------------------------------------------------------------------------------------
# pytest plumbing: a deadline per async test, the bridge log tail on failure
# --------------------------------------------------------------------------------------------

def pytest_collection_modifyitems(config, items):
    for item in items:
        fn = getattr(item, "obj", None)
        if fn is not None and inspect.iscoroutinefunction(fn) and not getattr(fn, "_deadline", False):
            item.obj = _with_deadline(fn, TEST_DEADLINE)


def _with_deadline(fn, seconds):
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        return await asyncio.wait_for(fn(*args, **kwargs), seconds)

    wrapper._deadline = True
    return wrapper


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        bridge = item.funcargs.get("bridge") if hasattr(item, "funcargs") else None
        if bridge is not None:
            report.sections.append(("bridge stderr (last 60 lines)", bridge.log_tail(60)))


# --------------------------------------------------------------------------------------------
# REST client (standard library only)
# --------------------------------------------------------------------------------------------

def same_value(value: Any, expected: Any) -> bool:
    """Equality that does not confuse JSON booleans with numbers (True == 1 in Python)."""
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value == expected
    if isinstance(expected, (int, float)):
        return isinstance(value, (int, float)) and value == expected
    return value == expected


class Api:
    """A tiny JSON client of the bridge's REST API. Sync methods, `a*` async twins (thread)."""

    def __init__(self, host: str, port: int):
        self.host = host
        self.port = port

    def request(self, method: str, path: str, body: Any = None, timeout: float = 15.0):
        """Returns (status, decoded JSON or text)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = {"Accept": "application/json"}
            data = None
            if body is not None:
                data = body if isinstance(body, (bytes, str)) else json.dumps(body)
                if isinstance(data, str):
                    data = data.encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            text = raw.decode("utf-8", "replace")
            try:
                decoded = json.loads(text) if text else None
            except json.JSONDecodeError:
                decoded = text
            return resp.status, decoded
        finally:
            conn.close()

    async def arequest(self, method: str, path: str, body: Any = None, timeout: float = 15.0):
        return await asyncio.to_thread(self.request, method, path, body, timeout)

    # Tags -----------------------------------------------------------------------------------
    @staticmethod
    def tag_path(name: str) -> str:
        return "/api/tags/" + urllib.parse.quote(name, safe="")

    def get_tag(self, name: str):
        status, body = self.request("GET", self.tag_path(name))
        if status == 404:
            return None
        assert status == 200, f"GET {name}: {status} {body}"
        return body

    async def aget_tag(self, name: str):
        return await asyncio.to_thread(self.get_tag, name)

    def put_tag(self, name: str, value: Any):
        return self.request("PUT", self.tag_path(name), {"value": value})

    async def aput_tag(self, name: str, value: Any):
        return await asyncio.to_thread(self.put_tag, name, value)

    def list_tags(self, prefix: str):
        status, body = self.request("GET", "/api/tags?prefix=" + urllib.parse.quote(prefix, safe=""))
        assert status == 200, f"GET tags prefix={prefix}: {status} {body}"
        return body

    async def alist_tags(self, prefix: str):
        return await asyncio.to_thread(self.list_tags, prefix)

    async def wait_tag(self, name: str, expected: Any = ..., timeout: float = 5.0):
        """Polls until tag `name` exists (and equals `expected`, or satisfies it if callable).
        Returns the tag object; raises AssertionError with the last seen value on timeout."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            last = await self.aget_tag(name)
            if last is not None:
                value = last.get("value")
                if expected is ...:
                    return last
                if callable(expected):
                    if expected(value):
                        return last
                elif same_value(value, expected):
                    return last
            if time.monotonic() > deadline:
                raise AssertionError(f"tag {name!r}: expected {expected!r}, last seen {last!r}")
            await asyncio.sleep(0.1)

    # Charge points / calls ------------------------------------------------------------------
    async def call(self, cp_id: str, action: str, payload: Any, timeout: float = 15.0):
        path = f"/api/chargepoints/{urllib.parse.quote(cp_id, safe='')}/calls/{action}"
        return await self.arequest("POST", path, payload, timeout)

    async def chargepoint(self, cp_id: str):
        return await self.arequest("GET", f"/api/chargepoints/{urllib.parse.quote(cp_id, safe='')}")


# --------------------------------------------------------------------------------------------
# The bridge process
# --------------------------------------------------------------------------------------------

def _mappings_dir() -> str:
    env = os.environ.get("OCPP_BRIDGE_MAPPINGS")
    if env:
        return env
    return str(REPO_ROOT / "mappings")


class Bridge:
    def __init__(self, workdir: Path, extra_args: tuple[str, ...] = (), config: dict[str, str | None] | None = None):
        self.workdir = workdir
        self.extra_args = list(extra_args)
        # Top-level config keys to set or override, as YAML text per key (e.g. {"replayInterval": "0.05"});
        # None removes a default key.
        self.config_overrides = dict(config or {})
        self.log_path = workdir / "bridge.stderr.log"
        self.proc: subprocess.Popen | None = None
        self.ocpp_port = 0
        self.api_port = 0
        self.api: Api | None = None

    def start(self):
        binary = os.environ.get("OCPP_BRIDGE_BIN")
        if not binary:
            pytest.fail("OCPP_BRIDGE_BIN is not set (the ocpp-bridge executable under test)")
        if not os.access(binary, os.X_OK):
            pytest.fail(f"OCPP_BRIDGE_BIN={binary} is not an executable file")
        config = self.workdir / "config.yaml"
        blocks = {
            "decisionTimeout": f"{DECISION_TIMEOUT}",
            "callTimeout": f"{CALL_TIMEOUT}",
            "heartbeatInterval": f"{HEARTBEAT_INTERVAL}",
            "logLevel": "debug",
            "decisionDefaults": "\n  Authorize: Invalid\n  StartTransaction: Invalid\n  StopTransaction: Accepted"
                                "\n  DataTransfer: UnknownVendorId",
            "routing": "\n  Authorize: tags\n  StartTransaction: tags\n  StopTransaction: tags\n  DataTransfer: tags",
        }
        blocks.update(self.config_overrides)
        config.write_text("".join(f"{key}: {value}\n" for key, value in blocks.items() if value is not None))
        cmd = [
            binary, "serve",
            "--ocpp-host", "127.0.0.1", "--ocpp-port", "0",
            "--api-port", "0",
            "--db", str(self.workdir / "bridge.sqlite"),
            "--mappings", _mappings_dir(),
            "--config", str(config),
            *self.extra_args,
        ]
        start_offset = self.log_offset()
        self.log_file = open(self.log_path, "ab")
        # cwd = the temp dir, so that no `scripts/` folder of a checkout answers handshakes.
        self.proc = subprocess.Popen(
            cmd, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=self.log_file
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        ocpp_re = re.compile(r"listening ocpp=([0-9.]+):(\d+)")
        api_re = re.compile(r"listening api=([0-9.]+):(\d+)")
        while time.monotonic() < deadline:
            text = self.log_text()[start_offset:]
            m1, m2 = ocpp_re.search(text), api_re.search(text)
            if m1 and m2:
                self.ocpp_port = int(m1.group(2))
                self.api_port = int(m2.group(2))
                self.api = Api("127.0.0.1", self.api_port)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        rc = self.proc.poll()
        self.stop()
        pytest.fail(
            f"bridge did not log both 'listening' lines (exit code {rc}); command: {' '.join(cmd)}\n"
            f"--- stderr tail ---\n{self.log_tail(40)}"
        )

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_since(self, offset: int) -> str:
        return self.log_text()[offset:]

    def log_offset(self) -> int:
        return len(self.log_text())

    def ws_url(self, cp_path_segment: str) -> str:
        """`cp_path_segment` is put in the URL as is (already percent-encoded if needed)."""
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp/{cp_path_segment}"

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log_file.close()


@contextlib.contextmanager
def running_bridge(prefix: str = "ocpp-bridge-interop-", *, scripts: dict[str, str] | None = None,
                   shipped_scripts: bool = False, extra_args: tuple[str, ...] = (),
                   config: dict[str, str | None] | None = None):
    """A bridge started in a fresh temp dir; stopped on exit (its stderr kept with OCPP_INTEROP_KEEP_LOGS).
    With `scripts` (file name -> Lua text) and/or `shipped_scripts` (a copy of the repo's `scripts/` first),
    it runs with `--scripts` on a `scripts/` folder holding them."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        workdir = Path(tmp)
        if scripts is not None or shipped_scripts:
            folder = workdir / "scripts"
            if shipped_scripts:
                shutil.copytree(REPO_ROOT / "scripts", folder)
            else:
                folder.mkdir()
            for name, text in (scripts or {}).items():
                (folder / name).write_text(text)
            extra_args = (*extra_args, "--scripts", str(folder))
        b = Bridge(workdir, extra_args=extra_args, config=config)
        b.start()
        try:
            yield b
        finally:
            b.stop()
            if os.environ.get("OCPP_INTEROP_KEEP_LOGS"):
                dest = Path(os.environ["OCPP_INTEROP_KEEP_LOGS"])
                dest.mkdir(parents=True, exist_ok=True)
                (dest / f"bridge-{os.getpid()}-{int(time.time()*1000)}.log").write_text(b.log_text())


@pytest.fixture(scope="module")
def bridge():
    with running_bridge() as b:
        yield b


@pytest.fixture
def api(bridge) -> Api:
    return bridge.api


@pytest.fixture
def cp_id(request) -> str:
    """A fresh charge point id per test."""
    base = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:28]
    return f"IT-{base}-{uuid.uuid4().hex[:6]}"


# --------------------------------------------------------------------------------------------
# Charge point helper (PyPI `ocpp` v16 ChargePoint answering every CSMS-initiated action)
# --------------------------------------------------------------------------------------------

CSMS_ACTIONS = [
    "ChangeAvailability", "ChangeConfiguration", "ClearCache", "DataTransfer", "GetConfiguration",
    "RemoteStartTransaction", "RemoteStopTransaction", "Reset", "UnlockConnector", "GetDiagnostics",
    "UpdateFirmware", "GetLocalListVersion", "SendLocalList", "CancelReservation", "ReserveNow",
    "ClearChargingProfile", "GetCompositeSchedule", "SetChargingProfile", "TriggerMessage",
]

# What the test charge point answers by default (snake_case; the library converts to camelCase).
DEFAULT_RESPONSES: dict[str, Callable[[], Any]] = {
    "ChangeAvailability": lambda: call_result.ChangeAvailability(status="Accepted"),
    "ChangeConfiguration": lambda: call_result.ChangeConfiguration(status="Accepted"),
    "ClearCache": lambda: call_result.ClearCache(status="Accepted"),
    "DataTransfer": lambda: call_result.DataTransfer(status="Accepted", data="cp-data"),
    "GetConfiguration": lambda: call_result.GetConfiguration(
        configuration_key=[
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
        ],
        unknown_key=["NoSuchKey"],
    ),
    "RemoteStartTransaction": lambda: call_result.RemoteStartTransaction(status="Accepted"),
    "RemoteStopTransaction": lambda: call_result.RemoteStopTransaction(status="Accepted"),
    "Reset": lambda: call_result.Reset(status="Accepted"),
    "UnlockConnector": lambda: call_result.UnlockConnector(status="Unlocked"),
    "GetDiagnostics": lambda: call_result.GetDiagnostics(file_name="diag-0001.zip"),
    "UpdateFirmware": lambda: call_result.UpdateFirmware(),
    "GetLocalListVersion": lambda: call_result.GetLocalListVersion(list_version=7),
    "SendLocalList": lambda: call_result.SendLocalList(status="Accepted"),
    "CancelReservation": lambda: call_result.CancelReservation(status="Accepted"),
    "ReserveNow": lambda: call_result.ReserveNow(status="Accepted"),
    "ClearChargingProfile": lambda: call_result.ClearChargingProfile(status="Accepted"),
    "GetCompositeSchedule": lambda: call_result.GetCompositeSchedule(
        status="Accepted",
        connector_id=1,
        schedule_start="2030-01-01T00:00:00Z",
        charging_schedule={
            "duration": 3600,
            "charging_rate_unit": "A",
            "charging_schedule_period": [
                {"start_period": 0, "limit": 16.0},
                {"start_period": 1800, "limit": 10.0, "number_phases": 3},
            ],
        },
    ),
    "SetChargingProfile": lambda: call_result.SetChargingProfile(status="Accepted"),
    "TriggerMessage": lambda: call_result.TriggerMessage(status="Accepted"),
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class RecordingChargePoint:
    """Mixin for a library ChargePoint class (v16 or v201): records every CALL it receives and answers each
    action installed by `answer_actions` with `responses[action]()`. Per-action behaviour can be overridden
    with `cp.behaviour[action] = async-or-sync callable(**kwargs) -> call_result | raises`."""

    responses: dict[str, Callable[[], Any]] = {}
    noun = "charge point"  # in failure messages

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict]] = []
        self._received_event = asyncio.Event()
        self.behaviour: dict[str, Callable[..., Any]] = {}

    async def _answer(self, action: str, kwargs: dict):
        self.received.append((action, kwargs))
        self._received_event.set()
        fn = self.behaviour.get(action)
        if fn is None:
            return self.responses[action]()
        result = fn(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def wait_received(self, action: str, timeout: float = 5.0, count: int = 1) -> dict:
        """Waits until `count` CALLs of `action` arrived; returns the last one's kwargs (snake_case)."""
        deadline = time.monotonic() + timeout
        while True:
            matching = [kw for a, kw in self.received if a == action]
            if len(matching) >= count:
                return matching[count - 1]
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"{self.noun} {self.id} did not receive {action} within {timeout}s; "
                    f"received: {[a for a, _ in self.received]}"
                )
            self._received_event.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._received_event.wait(), left)


def _make_handler(action: str):
    async def handler(self, **kwargs):
        return await self._answer(action, kwargs)

    handler.__name__ = f"on_{_snake(action)}"
    return on(action)(handler)


def answer_actions(cls, actions):
    """Installs an `on_<action>` handler answering through `RecordingChargePoint._answer` for each action."""
    for action in actions:
        setattr(cls, f"on_{_snake(action)}", _make_handler(action))
    return cls


class TestChargePoint(RecordingChargePoint, _V16ChargePoint):
    """A v16 charge point recording every CALL it receives and answering the 1.6 CSMS actions."""

    __test__ = False  # not a pytest class
    responses = DEFAULT_RESPONSES


answer_actions(TestChargePoint, CSMS_ACTIONS)


@contextlib.asynccontextmanager
async def charge_point(bridge: Bridge, cp_id: str, path_segment: str | None = None,
                       cls=TestChargePoint, subprotocols=("ocpp1.6",)):
    """Connects a library charge point as `cp_id` and runs its receive loop. Yields the ChargePoint
    (with `.ws` the connection)."""
    segment = path_segment if path_segment is not None else urllib.parse.quote(cp_id, safe="")
    ws = await asyncio.wait_for(
        ws_connect(
            bridge.ws_url(segment),
            subprotocols=[Subprotocol(s) for s in subprotocols],
            proxy=None,
            open_timeout=5,
            close_timeout=2,
        ),
        10,
    )
    cp = cls(cp_id, ws, response_timeout=10)
    cp.ws = ws
    task = asyncio.create_task(cp.start())
    try:
        yield cp
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, 2)
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(ws.close(), 3)


async def boot16(cp):
    """A minimal 1.6 BootNotification."""
    await cp.call(call16.BootNotification(charge_point_model="M", charge_point_vendor="V"), suppress=False)


# --------------------------------------------------------------------------------------------
# Times and payloads (both versions)
# --------------------------------------------------------------------------------------------

def utcnow() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    assert isinstance(text, str), f"not a time string: {text!r}"
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert t.tzinfo is not None, f"time without a zone: {text!r}"
    return t


def assert_recent(text: str, seconds: float = 120):
    t = parse_time(text)
    delta = abs((datetime.now(timezone.utc) - t).total_seconds())
    assert delta < seconds, f"{text!r} is {delta:.0f}s away from now"


def normalize(value):
    """Compares payloads by meaning: RFC 3339 strings as instants, numbers by value."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def as_camel(result) -> dict:
    """A call_result dataclass as the JSON object the library puts on the wire."""
    return snake_to_camel_case(remove_nones(serialize_as_dict(result)))


async def assert_call_through_rest(api: Api, cp, cp_id: str, action: str, payload: dict, expected: dict):
    """`POST .../calls/{action}` with `payload`: the REST answer is `expected` (the charge point's answer,
    camelCase), and the charge point got exactly that one CALL with `payload`."""
    status, body = await api.call(cp_id, action, payload)
    assert status == 200, body
    assert isinstance(body, dict) and "result" in body, body
    assert normalize(body["result"]) == normalize(expected), body

    seen = await cp.wait_received(action, timeout=1)
    assert normalize(seen) == normalize(camel_to_snake_case(payload)), seen
    assert [a for a, _ in cp.received] == [action]


# --------------------------------------------------------------------------------------------
# Command tags (`{cp}.TriggerMessage.*`, `{cp}.Command.*`)
# --------------------------------------------------------------------------------------------

async def put_ok(api: Api, name, value):
    status, body = await api.aput_tag(name, value)
    assert status == 200, (name, value, status, body)


async def next_request_number(api: Api, name: str) -> int:
    tag = await api.aget_tag(name)
    current = 0 if tag is None or tag["value"] in (None, "") else tag["value"]
    assert isinstance(current, int) and not isinstance(current, bool), tag
    return current + 1


# --------------------------------------------------------------------------------------------
# Raw OCPP-J over a plain websockets connection (both versions)
# --------------------------------------------------------------------------------------------

@contextlib.asynccontextmanager
async def raw_ws(bridge: Bridge, segment: str, subprotocols=("ocpp1.6",)):
    kwargs = {"proxy": None, "open_timeout": 5, "close_timeout": 2}
    if subprotocols is not None:
        kwargs["subprotocols"] = [Subprotocol(s) for s in subprotocols]
    ws = await asyncio.wait_for(ws_connect(bridge.ws_url(segment), **kwargs), 10)
    try:
        yield ws
    finally:
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(ws.close(), 3)


async def exchange(ws, frame) -> list:
    await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
    text = await asyncio.wait_for(ws.recv(), 5)
    msg = json.loads(text)
    assert isinstance(msg, list), text
    return msg


async def assert_heartbeat_works(ws, msg_id="hb-after"):
    answer = await exchange(ws, [2, msg_id, "Heartbeat", {}])
    assert answer[0] == 3 and answer[1] == msg_id, answer
    assert isinstance(answer[2].get("currentTime"), str), answer


def assert_call_error(msg, msg_id, codes):
    """A CALLERROR frame answering `msg_id` (None: any id) with `codes`: one code or a collection of
    acceptable ones."""
    codes = {codes} if isinstance(codes, str) else set(codes)
    assert len(msg) == 5, msg
    assert msg[0] == 4, msg
    if msg_id is not None:
        assert msg[1] == msg_id, msg
    assert msg[2] in codes, f"expected one of {sorted(codes)}: {msg}"
    assert isinstance(msg[3], str), msg
    assert isinstance(msg[4], dict), msg


# --------------------------------------------------------------------------------------------
# SCADA client: answers the tag handshakes over REST, by rules
# --------------------------------------------------------------------------------------------

def default_authorize(fields: dict) -> tuple[str, dict]:
    id_tag = str(fields.get("IdTag", "")).upper()
    if id_tag.startswith("BLOCKED"):
        return "Blocked", {}
    if id_tag.startswith("EXPIRED"):
        return "Expired", {}
    return "Accepted", {}


def default_start(fields: dict) -> tuple[str, dict]:
    return default_authorize(fields)


def default_stop(fields: dict) -> tuple[str, dict]:
    return "Accepted", {}


def default_data_transfer(fields: dict) -> tuple[str, dict]:
    if fields.get("VendorId") == "com.example.interop":
        return "Accepted", {"ResponseData": f"echo:{fields.get('MessageId')}:{fields.get('Data')}"}
    if fields.get("VendorId") == "com.example.reject":
        return "Rejected", {}
    return "UnknownVendorId", {}


DEFAULT_RULES = {
    "Authorize": default_authorize,
    "StartTransaction": default_start,
    "StopTransaction": default_stop,
    "DataTransfer": default_data_transfer,
}

HANDSHAKES = ("Authorize", "StartTransaction", "StopTransaction", "DataTransfer")
_REQUEST_RE = re.compile(r"^(?P<cp>.+)\.(?P<action>Authorize|StartTransaction|StopTransaction|DataTransfer)\.Request$")


class Scada(threading.Thread):
    """Long-polls /api/changes; for charge points registered with `serve(cp_id)`, answers each new
    `{cp}.{Action}.Request` by writing `.Status` (and `.ResponseData`) then `.Response` = the number.
    Records the request fields it read in `self.seen[(cp, action)]`."""

    def __init__(self, api: Api):
        super().__init__(daemon=True, name="scada")
        self.api = api
        self.rules: dict[str, dict[str, Callable]] = {}
        self.seen: dict[tuple[str, str], list[dict]] = {}
        self.answered: dict[tuple[str, str], set] = {}
        self.errors: list[str] = []
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def serve(self, cp_id: str, **rules):
        with self._lock:
            self.rules[cp_id] = {**DEFAULT_RULES, **rules}

    def unserve(self, cp_id: str):
        with self._lock:
            self.rules.pop(cp_id, None)

    def stop(self):
        self._halt.set()

    def run(self):
        since = 0
        while not self._halt.is_set():
            try:
                status, body = self.api.request("GET", f"/api/changes?since={since}&wait=1", timeout=10)
                if status != 200 or not isinstance(body, dict):
                    self.errors.append(f"GET /api/changes?since={since}: {status} {body!r}")
                    time.sleep(0.2)
                    continue
                for change in body.get("changes", []):
                    self._on_change(change)
                since = body.get("next", since)
            except Exception as e:  # keep serving; record for diagnosis
                self.errors.append(f"scada: {type(e).__name__}: {e}")
                time.sleep(0.2)

    def _on_change(self, change: dict):
        m = _REQUEST_RE.match(str(change.get("name", "")))
        if not m:
            return
        cp, action = m.group("cp"), m.group("action")
        with self._lock:
            rules = self.rules.get(cp)
        if rules is None:
            return
        number = change.get("value")
        key = (cp, action)
        done = self.answered.setdefault(key, set())
        if number in done:
            return
        done.add(number)
        fields = {}
        for tag in self.api.list_tags(f"{cp}.{action}."):
            fields[tag["name"][len(cp) + len(action) + 2:]] = tag["value"]
        self.seen.setdefault(key, []).append(fields)
        status, extra = rules[action](fields)
        for name, value in [("Status", status), *extra.items()]:
            code, body = self.api.put_tag(f"{cp}.{action}.{name}", value)
            if code != 200:
                self.errors.append(f"PUT {cp}.{action}.{name}={value!r}: {code} {body!r}")
        code, body = self.api.put_tag(f"{cp}.{action}.Response", number)
        if code != 200:
            self.errors.append(f"PUT {cp}.{action}.Response={number!r}: {code} {body!r}")


@pytest.fixture(scope="module")
def scada(bridge):
    s = Scada(bridge.api)
    s.start()
    yield s
    s.stop()
    s.join(timeout=5)
