"""The examples run against a real sidecar."""

from __future__ import annotations

import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sidecar import Sidecar

import meshlink

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_list_peers(sidecar: Sidecar) -> None:
    out = subprocess.run([sys.executable, str(EXAMPLES / "list_peers.py"), str(sidecar.state_dir)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "in mesh" in out.stdout


def test_list_peers_without_a_sidecar(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(EXAMPLES / "list_peers.py"), str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 3 and "no sidecar" in out.stderr


def unused_port() -> int:
    """A port nothing listens on, for an example to listen on once it has started (a Python start takes
    a while). Below the kernel's ephemeral range where there is room: bind(0) and connect() never hand
    such a port out, so no other process takes it meanwhile, as it could one bound at random and released."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 0
    candidates = [random.randrange(20_000, low) for _ in range(50)] if low - 20_000 >= 1000 else []
    for port in [*candidates, 0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise AssertionError("no free port")


def test_share_port(sidecar: Sidecar) -> None:
    port = unused_port()
    out = subprocess.run([sys.executable, str(EXAMPLES / "share_port.py"), str(port), "demo", "--state", str(sidecar.state_dir), "--seconds", "1"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert f"sharing demo (127.0.0.1:{port})" in out.stdout and "stopped sharing demo" in out.stdout


# ---- two members: the examples that need a teammate

class Lines:
    """Reads a child process's stdout lines in a thread; ``wait(substring, timeout)`` returns the first line containing it."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(0.01, left))
            except queue.Empty:
                line = ""
            if line is None or left <= 0:
                raise AssertionError(f"no line with {text!r}; output so far:\n" + "\n".join(self.seen) + f"\nstderr:\n{self._stderr()}")
            self.seen.append(line)
            if text in line:
                return line

    def _stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return "(running)"
        return self.proc.stderr.read()


@pytest.fixture(scope="module")
def mesh(pair: tuple[Sidecar, Sidecar]) -> Iterator[tuple[Sidecar, Sidecar]]:
    """alice and bob in one mesh, connected."""
    alice_sc, bob_sc = pair
    with meshlink.Client(alice_sc.state_dir, timeout=20) as alice, meshlink.Client(bob_sc.state_dir, timeout=20) as bob, \
            bob.events("peer.", timeout=15) as bob_events:
        time.sleep(0.2)
        bob.mesh_join(alice.mesh_invite().code)
        bob_events.wait_for(lambda e: e.name == "peer.connected" and e.data.peer.id == alice_sc.info.peer_id, 15)
    yield pair


def run_example(script: str, *args: str) -> tuple[subprocess.Popen[str], Lines]:
    proc = subprocess.Popen([sys.executable, "-u", str(EXAMPLES / script), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, Lines(proc)


def test_share_port_names_who_connects(mesh: tuple[Sidecar, Sidecar]) -> None:
    alice_sc, bob_sc = mesh
    port = unused_port()
    proc, out = run_example("share_port.py", str(port), "greet", "--state", str(alice_sc.state_dir), "--seconds", "60")
    try:
        out.wait("sharing greet", 15)
        with meshlink.Client(bob_sc.state_dir, timeout=20) as bob:
            deadline = time.monotonic() + 15
            while not any(s.name == "greet" and not s.mine for s in bob.services().services):
                assert time.monotonic() < deadline, "bob never saw alice's service"
                time.sleep(0.1)
            fwd = bob.forwards_open(alice_sc.info.peer_id, "greet", port=0).forward
            with socket.create_connection(("127.0.0.1", fwd.local_port), timeout=10) as c:
                c.settimeout(10)
                assert c.recv(64).startswith(b"hello from the mesh")
            line = out.wait("connected to greet", 15)
            assert line.startswith(f"bob ({bob_sc.info.peer_id})"), line
            bob.forwards_close(fwd.id)
        proc.send_signal(signal.SIGINT)
        out.wait("stopped sharing greet", 15)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_publish_wait_sees_the_teammates_fetch(mesh: tuple[Sidecar, Sidecar], tmp_path: Path) -> None:
    alice_sc, bob_sc = mesh
    tree = tmp_path / "site"
    (tree / "assets").mkdir(parents=True)
    (tree / "index.html").write_text("<h1>hello</h1>\n")
    (tree / "assets" / "data.bin").write_bytes(os.urandom(300_000))
    proc, out = run_example("publish_wait.py", str(tree), "--tag", "py-example", "--state", str(alice_sc.state_dir), "--timeout", "60")
    try:
        line = out.wait("published ", 30)
        artifact_id = line.split()[1]
        assert len(artifact_id) == 64, line
        with meshlink.Client(bob_sc.state_dir, timeout=20) as bob, bob.events("transfer.", timeout=30) as bob_events:
            time.sleep(0.2)  # subscriptions reach the sidecar asynchronously; a small fetch is done within milliseconds
            deadline = time.monotonic() + 15
            while not any(a.id == artifact_id for a in bob.artifacts().artifacts):
                assert time.monotonic() < deadline, "bob never saw alice's artifact"
                time.sleep(0.1)
            fetch = bob.artifacts_fetch(artifact_id, str(tmp_path / "fetched")).transfer
            done = bob_events.wait_for(lambda e: e.name in ("transfer.done", "transfer.failed") and e.data.transfer.id == fetch.id, 30)
            assert done.name == "transfer.done", done.data.transfer.error
        assert (tmp_path / "fetched" / "index.html").read_text() == "<h1>hello</h1>\n"
        line = out.wait("fetched by ", 30)
        assert line == f"fetched by bob ({bob_sc.info.peer_id})", line
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
