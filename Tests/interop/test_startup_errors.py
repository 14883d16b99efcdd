"""Bad start-up input stops the bridge at once with the file, the line and the reason."""

import os
import subprocess
from pathlib import Path

import pytest

BIN = os.environ.get("OCPP_BRIDGE_BIN", "")


def start(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, "serve", "--ocpp-port", "0", "--api-port", "0", "--db", str(tmp_path / "b.sqlite"), *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=30)


def test_a_bad_mapping_file_names_file_and_line(tmp_path):
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "broken.yaml").write_text(
        "protocol: ocpp1.6\nmessages:\n  Heartbeat:\n    - tag: \"{cp}.Heartbeat.Last\"\n      vlaue: now\n")
    result = start(tmp_path, "--mappings", str(mappings))
    assert result.returncode != 0
    assert "broken.yaml:5:" in result.stderr
    assert "unknown key 'vlaue'" in result.stderr


def test_a_bad_config_file_names_file_and_line(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("heartbeatInterval: 60\nhearbeatInterval: 60\n")
    result = start(tmp_path, "--config", str(config))
    assert result.returncode != 0
    assert "config.yaml:2:" in result.stderr
    assert "unknown key 'hearbeatInterval'" in result.stderr


@pytest.mark.parametrize("args,needle", [
    (["--ocpp-port", "70000"], "--ocpp-port must be 0 to 65535"),
    (["--log-level", "loud"], "unknown log level 'loud'"),
    (["--no-such-flag"], "Unknown option '--no-such-flag'"),
    (["--mappings", "/nonexistent/mappings"], "/nonexistent/mappings"),
])
def test_bad_flags_are_refused_with_a_reason(tmp_path, args, needle):
    result = start(tmp_path, *args)
    assert result.returncode != 0
    assert needle in result.stderr
