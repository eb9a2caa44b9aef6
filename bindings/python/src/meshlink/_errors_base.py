"""Base exception classes. The per-code classes are generated (meshlink/gen/errors.py)."""

from __future__ import annotations

from typing import Any


class MeshlinkError(Exception):
    """Base of every exception this package raises."""


class SidecarError(MeshlinkError):
    """The sidecar answered with an error. Switch on the class (or ``code``), never on the message.

    Each code of schemas/types/error-code.json has its own subclass (``NotFoundError`` for
    ``NOT_FOUND``, ...); a code this binding does not know yet (a newer sidecar) raises this class.
    """

    code: str = ""

    def __init__(self, message: str, *, code: str | None = None, data: dict[str, Any] | None = None, method: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        #: Machine-readable details, e.g. ``{"path": "/params/name"}``.
        self.data: dict[str, Any] = data or {}
        #: The method that failed, when known.
        self.method = method

    def __str__(self) -> str:
        where = f"{self.method}: " if self.method else ""
        return f"{where}{self.message} [{self.code}]"


class ClientError(MeshlinkError):
    """A problem on this side of the socket (no sidecar, no answer, a malformed reply)."""


class SidecarNotRunningError(ClientError):
    """No api.json in the state dir, or the process it names is gone."""


class ClientTimeoutError(ClientError, TimeoutError):
    """The sidecar did not answer (or no event came) within the timeout."""


class ClientClosedError(ClientError):
    """The client (or event stream) was closed while waiting."""


class BadReplyError(ClientError):
    """A reply or event that is not the protocol's JSON (a bug on one side: please report it)."""
