"""Starts real sidecar processes for the tests (``meshlink up --handshake``), by PID, with a fresh state dir."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from meshlink import ApiInfo

REPO = Path(__file__).resolve().parents[3]
#: Node 22 and the bundled sidecar; scripts/test-bindings.mjs sets both.
NODE = os.environ.get("MESHLINK_NODE") or str(REPO / "node_modules" / ".bin" / "node")
BUNDLE = os.environ.get("MESHLINK_SIDECAR") or str(REPO / "dist" / "meshlink.mjs")
SCHEMAS = REPO / "schemas"


class Sidecar:
    """One ``meshlink up`` on loopback with mDNS off; ``stop()`` ends it (SIGTERM, then SIGKILL) and removes its dirs."""

    def __init__(self, name: str = "conformance", timeout: float = 20.0) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ml-py-"))
        self.state_dir = self.root / "state"
        self.stderr_path = self.root / "sidecar.stderr"
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [NODE, BUNDLE, "up", "--handshake", "--state", str(self.state_dir), "--name", name,
                 "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns", "--parent-pid", str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
            )
        try:
            self.info = ApiInfo.from_json(json.loads(self._handshake(timeout)))
        except BaseException:
            self.stop()
            raise

    def _handshake(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        buf = b""
        deadline = time.monotonic() + timeout
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise RuntimeError(f"sidecar did not hand shake within {timeout} s; stderr:\n{self.stderr()}")
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise RuntimeError(f"sidecar exited ({self.proc.wait(5)}) before the handshake; stderr:\n{self.stderr()}")
                buf += chunk
        finally:
            sel.close()
        return buf.split(b"\n", 1)[0].decode()

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(10) is None:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)
