"""Finding the running sidecar: ``<state dir>/api.json`` (schemas/PROTOCOL.md, "Finding the sidecar")."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors_base import SidecarNotRunningError


@dataclass(frozen=True)
class ApiInfo:
    """What a running sidecar wrote to api.json (and printed as its ``--handshake`` line)."""

    router: str
    """ZeroMQ endpoint of the request ROUTER (``ipc://...``; ``tcp://127.0.0.1:...`` on Windows)."""
    events: str
    """ZeroMQ endpoint of the event PUB socket."""
    token: str
    """Sent with every request."""
    pid: int = 0
    peer_id: str = ""
    state_dir: str = ""
    version: str = ""
    protocol_version: int = 1
    started_at: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ApiInfo:
        return cls(
            router=d["router"], events=d["events"], token=d["token"], pid=int(d.get("pid", 0)),
            peer_id=d.get("peerId", ""), state_dir=d.get("stateDir", ""), version=d.get("version", ""),
            protocol_version=int(d.get("protocolVersion", 1)), started_at=d.get("startedAt", ""), raw=d,
        )


def default_state_dir() -> Path:
    """The platform default: ``$XDG_STATE_HOME/meshlink`` or ``~/.local/state/meshlink`` (Linux),
    ``~/Library/Application Support/MeshLink`` (macOS), ``%LOCALAPPDATA%\\MeshLink`` (Windows)."""
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "MeshLink"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "MeshLink"
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else home / ".local" / "state") / "meshlink"


def resolve_state_dir(state_dir: str | os.PathLike[str] | None = None) -> Path:
    """The argument, else ``$MESHLINK_STATE``, else the platform default (the sidecar's own order)."""
    if state_dir is not None:
        return Path(state_dir)
    env = os.environ.get("MESHLINK_STATE")
    return Path(env) if env else default_state_dir()


def _alive(pid: int) -> bool:
    if pid <= 0 or sys.platform == "win32":
        return True  # nothing cheap to check there; a dead sidecar shows as a timeout instead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_api_info(state_dir: str | os.PathLike[str] | None = None, *, check_pid: bool = True) -> ApiInfo:
    """Reads api.json of the sidecar for ``state_dir``; raises SidecarNotRunningError when there is none."""
    d = resolve_state_dir(state_dir)
    path = d / "api.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SidecarNotRunningError(f"no sidecar is running for {d} (no {path}); start one with `meshlink up --state {d}`") from None
    except (OSError, ValueError) as e:
        raise SidecarNotRunningError(f"cannot read {path}: {e}") from None
    try:
        info = ApiInfo.from_json(raw)
    except (KeyError, TypeError, ValueError) as e:
        raise SidecarNotRunningError(f"{path} is not a sidecar's api.json ({e!r})") from None
    if check_pid and not _alive(info.pid):
        raise SidecarNotRunningError(f"{path} is stale: process {info.pid} is not running")
    return info
