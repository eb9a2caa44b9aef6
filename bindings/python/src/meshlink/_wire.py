"""Wire helpers shared by the clients and the generated models: JSON framing and timestamps."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

#: Protocol version this binding speaks (schemas/PROTOCOL.md, "Versioning").
PROTOCOL_VERSION = 1

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.loads


def encode_request(req_id: int | str, token: str, method: str, params: dict[str, Any]) -> bytes:
    """One request frame: {v, id, token, method, params} as compact UTF-8 JSON."""
    return _dumps({"v": PROTOCOL_VERSION, "id": req_id, "token": token, "method": method, "params": params}).encode()


def decode_frame(frame: bytes) -> Any:
    return _loads(frame)


def parse_datetime(s: str) -> datetime:
    """RFC 3339 as the sidecar writes it (``2026-11-24T03:34:50.928Z``); Python 3.10's fromisoformat lacks ``Z``."""
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    return datetime.fromisoformat(s)


def format_datetime(dt: datetime) -> str:
    """The inverse of parse_datetime: UTC with ``Z``, milliseconds unless finer precision is present."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    dt = dt.astimezone(timezone.utc)
    spec = "milliseconds" if dt.microsecond % 1000 == 0 else "microseconds"
    return dt.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
