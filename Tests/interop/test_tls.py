"""Security profiles 2 and 3 (TLS with Basic auth; mutual TLS naming the charge point) and the REST API's
TLS and bearer token, with certificates made by the openssl command for each run."""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path

import pytest
import websockets
from websockets.typing import Subprotocol

from conftest import Bridge

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

PASSWORD = "tls-profile-two-password"
TOKEN = "an-api-token-of-some-length"


def openssl(*args: str, cwd: Path):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(folder: Path, client_names: list[str]) -> Path:
    """A CA, a server certificate for 127.0.0.1/localhost, and one client certificate per name (CN = name)."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=folder)
    (folder / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, ext in [("server", "server.ext")] + [(n, None) for n in client_names]:
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/O=Test/CN={'localhost' if name == 'server' else name}",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=folder)
        args = ["x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-out", f"{name}.pem"]
        if ext:
            args += ["-extfile", ext]
        openssl(*args, cwd=folder)
    return folder


def client_context(pki: Path, cert: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if cert:
        context.load_cert_chain(str(pki / f"{cert}.pem"), str(pki / f"{cert}.key"))
    return context


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@contextlib.contextmanager
def tls_bridge(pki: Path, profile: int, with_client_ca: bool):
    with tempfile.TemporaryDirectory(prefix="ocpp-bridge-tls-") as tmp:
        tls = f"\n  tls:\n    certificate: {pki / 'server.pem'}\n    key: {pki / 'server.key'}"
        if with_client_ca:
            tls += f"\n    clientCA: {pki / 'ca.pem'}"
        config = {
            "ocpp": tls,
            "api": f"\n  token: {TOKEN}\n  tls:\n    certificate: {pki / 'server.pem'}\n    key: {pki / 'server.key'}",
            "security": f"\n  profile: {profile}\n  unknownChargePoints: accept",
        }
        bridge = Bridge(Path(tmp), config=config)
        bridge.start()
        try:
            yield bridge
        finally:
            bridge.stop()


@pytest.fixture(scope="module")
def pki():
    with tempfile.TemporaryDirectory(prefix="ocpp-bridge-pki-") as tmp:
        yield make_pki(Path(tmp), ["TLSCP1", "TLSCP2"])


async def wss(bridge: Bridge, cp_id: str, context: ssl.SSLContext, headers: dict | None = None):
    return await websockets.connect(
        f"wss://127.0.0.1:{bridge.ocpp_port}/ocpp/{cp_id}", ssl=context, subprotocols=[Subprotocol("ocpp1.6")],
        additional_headers=headers or {}, proxy=None, open_timeout=5)


async def test_profile_2_is_tls_with_basic_auth(pki, cp_id):
    with tls_bridge(pki, profile=2, with_client_ca=False) as bridge:
        ws = await wss(bridge, cp_id, client_context(pki), basic(cp_id, PASSWORD))
        assert ws.subprotocol == "ocpp1.6"
        await ws.close()
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            await wss(bridge, cp_id, client_context(pki))
        assert refused.value.response.status_code == 401
        # Plain ws:// to the TLS port gets no WebSocket.
        with pytest.raises(Exception):
            await websockets.connect(f"ws://127.0.0.1:{bridge.ocpp_port}/ocpp/{cp_id}", proxy=None, open_timeout=3)


async def test_profile_3_takes_the_charge_point_id_from_the_client_certificate(pki):
    with tls_bridge(pki, profile=3, with_client_ca=True) as bridge:
        ws = await wss(bridge, "TLSCP1", client_context(pki, "TLSCP1"))
        assert ws.subprotocol == "ocpp1.6"
        await ws.close()
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            await wss(bridge, "TLSCP1", client_context(pki, "TLSCP2"))
        assert refused.value.response.status_code == 401
        assert "the client certificate names 'TLSCP2', not 'TLSCP1'" in bridge.log_text()
        # Without a client certificate the TLS handshake itself fails.
        with pytest.raises((ssl.SSLError, OSError, websockets.exceptions.InvalidMessage)):
            await wss(bridge, "TLSCP1", client_context(pki))


async def test_the_rest_api_over_tls_needs_its_bearer_token(pki):
    with tls_bridge(pki, profile=2, with_client_ca=False) as bridge:
        def get(path: str, token: str | None):
            conn = http.client.HTTPSConnection("127.0.0.1", bridge.api_port, context=client_context(pki), timeout=5)
            try:
                conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
                response = conn.getresponse()
                return response.status, response.read()
            finally:
                conn.close()
        assert get("/api/tags?prefix=", None)[0] == 401
        assert get("/api/tags?prefix=", "wrong-token-of-some-length")[0] == 401
        assert get("/api/tags?prefix=", TOKEN)[0] == 200
        assert get("/health", None)[0] == 200


@pytest.mark.parametrize("security,ocpp,needle", [
    ("\n  profile: 2", None, "security profile 2 needs TLS"),
    ("\n  profile: 3", "\n  tls:\n    certificate: /nonexistent.pem\n    key: /nonexistent.key", "security profile 3 needs ocpp.tls.clientCA"),
    ("\n  profile: 2", "\n  tls:\n    certificate: /nonexistent.pem\n    key: /nonexistent.key", "ocpp.tls.certificate: cannot use '/nonexistent.pem'"),
])
def test_bad_tls_settings_stop_the_start(tmp_path, security, ocpp, needle):
    lines = f"security:{security}\n" + (f"ocpp:{ocpp}\n" if ocpp else "")
    (tmp_path / "c.yaml").write_text(lines)
    result = subprocess.run([os.environ["OCPP_BRIDGE_BIN"], "serve", "--ocpp-port", "0", "--api-port", "0",
                             "--db", str(tmp_path / "b.sqlite"), "--config", str(tmp_path / "c.yaml")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and needle in result.stderr, result.stderr
