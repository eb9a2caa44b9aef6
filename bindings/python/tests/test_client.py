"""The synchronous Client against a real sidecar: typed results, discovery, errors, timeouts, events."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import zmq
from sidecar import Sidecar

import meshlink
from meshlink import errors, models
from meshlink.gen.models import METHODS


def test_status_is_typed(sidecar: Sidecar) -> None:
    with meshlink.Client(sidecar.state_dir) as c:
        st = c.status()
    assert isinstance(st, models.NodeStatusResult)
    assert st.peer_id == sidecar.info.peer_id and st.pid == sidecar.proc.pid
    assert st.protocol_version == 1 and st.mdns is False
    assert isinstance(st.mesh, models.Mesh) and st.mesh.personal is True
    assert isinstance(st.mesh.created_at, datetime) and st.mesh.created_at.tzinfo is not None
    assert all(a.startswith("/ip4/127.0.0.1/tcp/") for a in st.listen_addrs)


def test_finds_the_sidecar_from_meshlink_state(sidecar: Sidecar, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHLINK_STATE", str(sidecar.state_dir))
    with meshlink.Client() as c:
        assert c.api.token == sidecar.info.token
        assert c.peers().peers == []


def test_no_sidecar(tmp_path: Path) -> None:
    with pytest.raises(errors.SidecarNotRunningError, match="no sidecar"):
        meshlink.Client(tmp_path)
    (tmp_path / "api.json").write_text(json.dumps({"pid": 2**22 + 12345, "router": "ipc:///nope", "events": "ipc:///nope", "token": "t"}))
    with pytest.raises(errors.SidecarNotRunningError, match="stale"):
        meshlink.Client(tmp_path)


def test_every_method_has_a_client_method() -> None:
    for name in METHODS:
        group, verb = name.split(".", 1)
        py = verb if group == "node" else group if verb == "list" else f"{group}_{verb}"
        py = "".join("_" + ch.lower() if ch.isupper() else ch for ch in py)
        assert callable(getattr(meshlink.Client, py)), f"{name} -> Client.{py}"
        assert callable(getattr(meshlink.AsyncClient, py)), f"{name} -> AsyncClient.{py}"


def test_one_exception_class_per_code(sidecar: Sidecar) -> None:
    with meshlink.Client(sidecar.state_dir) as c:
        with pytest.raises(errors.InvalidParamsError) as e:
            c.set_name("")
        assert e.value.code == "INVALID_PARAMS" and e.value.data["path"] == "/params/name" and e.value.method == "node.setName"
        assert isinstance(e.value, meshlink.SidecarError) and isinstance(e.value, meshlink.MeshlinkError)
        with pytest.raises(errors.MethodNotFoundError):
            c.call("node.explode")
        with pytest.raises(errors.NotFoundError):
            c.peers_ping("12D3KooWE375tVtuQRoyuvDUhkVdoYZRb3oheW9sJujMadWmXNZc")
        with pytest.raises(errors.InvalidInviteError):
            c.mesh_join("hello")
        assert c.status().name == "pytest"  # the client is still usable after errors
    bad = dataclasses.replace(sidecar.info, token="wrong")
    with meshlink.Client(api=bad) as c, pytest.raises(errors.UnauthorizedError):
        c.status()
    assert errors.error_from_wire({"code": "SOMETHING_NEW", "message": "m"}).__class__ is meshlink.SidecarError


def test_optional_params_are_left_out(sidecar: Sidecar) -> None:
    with meshlink.Client(sidecar.state_dir) as c:
        svc = c.services_share(8099).service  # name defaults to the port on the sidecar's side
        assert (svc.name, svc.port, svc.allow, svc.mine, svc.target) == ("8099", 8099, None, True, "127.0.0.1:8099")
        assert [s.name for s in c.services().services] == ["8099"]
        assert c.services_unshare("8099").service.name == "8099"
        assert c.forwards().forwards == []


class SilentThenLateRouter:
    """A ROUTER that answers request n after delays[n] seconds (None: never): timeouts and late replies."""

    def __init__(self, tmp: Path, delays: list[float | None]) -> None:
        self.endpoint = f"ipc://{tmp}/late.sock"
        self.sock = zmq.Context.instance().socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(self.endpoint)
        self.delays = delays
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        pending: list[tuple[float, list[bytes]]] = []
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        n = 0
        end = time.monotonic() + 10
        while time.monotonic() < end and (n < len(self.delays) or pending):
            if poller.poll(10):
                rid, body = self.sock.recv_multipart()
                req = json.loads(body)
                d = self.delays[n] if n < len(self.delays) else 0
                n += 1
                if d is not None:
                    pending.append((time.monotonic() + d, [rid, json.dumps({"v": 1, "id": req["id"], "result": {"name": f"r{req['id']}"}}).encode()]))
            for item in [p for p in pending if p[0] <= time.monotonic()]:
                pending.remove(item)
                self.sock.send_multipart(item[1])
        self.sock.close(0)


def test_timeout_and_a_late_reply_is_not_mistaken(tmp_path: Path) -> None:
    r = SilentThenLateRouter(tmp_path, [0.5, 0.0])
    api = meshlink.ApiInfo(router=r.endpoint, events=r.endpoint, token="t")
    with meshlink.Client(api=api, timeout=5) as c:
        t0 = time.monotonic()
        with pytest.raises(meshlink.ClientTimeoutError):
            c.set_name("x", timeout=0.1)
        assert time.monotonic() - t0 < 0.4
        assert isinstance(meshlink.ClientTimeoutError("x"), TimeoutError)
        time.sleep(0.6)  # the answer to request 1 arrives now, before request 2's
        assert c.set_name("y").name == "r2"


def test_events_typed_and_filtered(sidecar: Sidecar) -> None:
    with meshlink.Client(sidecar.state_dir) as c, c.events("node.", timeout=5) as ev, c.events("peer.", timeout=0.3) as peers_only:
        time.sleep(0.2)  # subscriptions reach the sidecar asynchronously
        c.set_name("evented")
        e = ev.wait_for("node.name", timeout=5)
        assert isinstance(e.data, models.NodeNameEvent) and e.data.name == "evented"
        assert e.seq >= 1 and e.missed == 0 and e.time.tzinfo is not None
        with pytest.raises(meshlink.ClientTimeoutError):
            peers_only.get()
        c.set_name("pytest")
