"""Every exception of the package, and the one mapping from wire error codes to exception classes.

    try:
        client.peers_ping(peer_id)
    except meshlink.errors.PeerUnreachableError:
        ...
"""

from __future__ import annotations

from typing import Any

from ._errors_base import (
    BadReplyError,
    ClientClosedError,
    ClientError,
    ClientTimeoutError,
    MeshlinkError,
    SidecarError,
    SidecarNotRunningError,
)
from .gen.errors import *  # noqa: F401,F403  (one class per code)
from .gen.errors import ERRORS_BY_CODE, __all__ as _codes_all


def error_from_wire(body: Any, method: str | None = None) -> SidecarError:
    """The exception for an ``error`` object of a reply: its code's class, or SidecarError for unknown codes."""
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        return SidecarError(f"malformed error object: {body!r}", code="INTERNAL", method=method)
    code = body["code"]
    cls = ERRORS_BY_CODE.get(code, SidecarError)
    data = body.get("data")
    return cls(str(body.get("message", "")), code=code, data=data if isinstance(data, dict) else None, method=method)


__all__ = [
    "BadReplyError",
    "ClientClosedError",
    "ClientError",
    "ClientTimeoutError",
    "MeshlinkError",
    "SidecarError",
    "SidecarNotRunningError",
    "error_from_wire",
    *_codes_all,
]
