"""MeshLink: a thin typed client of the MeshLink sidecar's control protocol (JSON over ZeroMQ).

    import meshlink
    with meshlink.Client() as client:          # finds the sidecar from $MESHLINK_STATE or the default state dir
        for peer in client.peers().peers:
            print(peer.name, peer.connected)

Models (meshlink.models), method stubs and error classes are generated from the protocol's JSON Schemas.
"""

from __future__ import annotations

from . import errors
from .aio import AsyncClient, AsyncEventStream
from .client import DEFAULT_TIMEOUT, Client, EventStream
from .discovery import ApiInfo, default_state_dir, read_api_info, resolve_state_dir
from .errors import (
    ClientError,
    ClientTimeoutError,
    MeshlinkError,
    SidecarError,
    SidecarNotRunningError,
)
from .events import Event
from .gen import models

__version__ = "0.1.0"

__all__ = [
    "ApiInfo",
    "AsyncClient",
    "AsyncEventStream",
    "Client",
    "ClientError",
    "ClientTimeoutError",
    "DEFAULT_TIMEOUT",
    "Event",
    "EventStream",
    "MeshlinkError",
    "SidecarError",
    "SidecarNotRunningError",
    "default_state_dir",
    "errors",
    "models",
    "read_api_info",
    "resolve_state_dir",
]
