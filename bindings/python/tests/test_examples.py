"""The examples run against a real sidecar."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from sidecar import Sidecar

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_list_peers(sidecar: Sidecar) -> None:
    out = subprocess.run([sys.executable, str(EXAMPLES / "list_peers.py"), str(sidecar.state_dir)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "in mesh" in out.stdout


def test_list_peers_without_a_sidecar(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(EXAMPLES / "list_peers.py"), str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 3 and "no sidecar" in out.stderr


def test_share_port(sidecar: Sidecar) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = subprocess.run([sys.executable, str(EXAMPLES / "share_port.py"), str(port), "demo", "--state", str(sidecar.state_dir), "--seconds", "1"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert f"sharing demo (127.0.0.1:{port})" in out.stdout and "stopped sharing demo" in out.stdout
