"""The synchronous client: one DEALER socket, one request at a time (thread-safe by a lock)."""

from __future__ import annotations

import itertools
import os
import threading
import time
from typing import Any, Callable, Iterator

import zmq

from ._errors_base import BadReplyError, ClientClosedError, ClientTimeoutError
from ._wire import decode_frame, encode_request
from .discovery import ApiInfo, read_api_info
from .errors import error_from_wire
from .events import Event, SeqTracker, topic_filters
from .gen.methods import SyncMethods

#: Per-request timeout (seconds): a little over the sidecar's own 30 s method limit.
DEFAULT_TIMEOUT = 35.0


def _ms(seconds: float | None) -> int:
    return -1 if seconds is None else max(0, int(seconds * 1000))


class Client(SyncMethods):
    """A blocking client of the sidecar's control protocol.

    ``Client()`` finds the sidecar from ``state_dir``, else ``$MESHLINK_STATE``, else the default state
    dir; ``api=`` passes an ApiInfo directly (e.g. the ``--handshake`` line). Every method takes
    ``timeout=`` (seconds; default ``timeout`` of the client) and raises ClientTimeoutError past it, or
    the error code's exception class (meshlink.errors) when the sidecar answers with an error.
    """

    def __init__(self, state_dir: str | os.PathLike[str] | None = None, *, timeout: float | None = DEFAULT_TIMEOUT,
                 api: ApiInfo | None = None, context: zmq.Context[Any] | None = None) -> None:
        self.api = api if api is not None else read_api_info(state_dir)
        self.timeout = timeout
        self._ctx = context or zmq.Context.instance()
        self._sock = self._ctx.socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.connect(self.api.router)
        self._rcvtimeo = -1
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = False

    def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None) -> dict[str, Any]:
        """Calls any method by name and returns its raw ``result`` object (the typed methods wrap this)."""
        return self._request(method, params or {}, timeout)

    def _request(self, method: str, params: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        t = self.timeout if timeout is None else timeout
        with self._lock:
            if self._closed:
                raise ClientClosedError("the client is closed")
            req_id = next(self._ids)
            self._sock.send(encode_request(req_id, self.api.token, method, params))  # copying is cheaper than zero-copy for small frames (pyzmq docs)
            deadline = None if t is None else time.monotonic() + t
            while True:
                ms = -1 if deadline is None else _ms(deadline - time.monotonic())
                if ms != self._rcvtimeo:
                    self._sock.setsockopt(zmq.RCVTIMEO, ms)
                    self._rcvtimeo = ms
                try:
                    frames = self._sock.recv_multipart()
                except zmq.Again:
                    raise ClientTimeoutError(f"the sidecar did not answer {method} within {t} s") from None
                try:
                    msg = decode_frame(frames[-1])
                    got = msg["id"]
                except (ValueError, KeyError, TypeError) as e:
                    raise BadReplyError(f"malformed reply to {method}: {frames[-1][:200]!r} ({e!r})") from None
                if got != req_id:
                    continue  # the late answer to an earlier request that timed out
                if "result" in msg:
                    return msg["result"]
                raise error_from_wire(msg.get("error"), method)

    def events(self, *topics: str, timeout: float | None = None) -> EventStream:
        """Subscribes to events whose topic starts with one of ``topics`` (none: all). Iterate it;
        each wait is bounded by ``timeout`` (None: wait forever). Close it (or use ``with``)."""
        return EventStream(self.api, topics, timeout=timeout, context=self._ctx)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._sock.close(linger=0)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventStream:
    """A SUB socket on the sidecar's events. ZeroMQ subscriptions reach the publisher asynchronously:
    events published in the first few milliseconds after subscribing may not arrive."""

    def __init__(self, api: ApiInfo, topics: tuple[str, ...] | list[str] = (), *, timeout: float | None = None,
                 context: zmq.Context[Any] | None = None) -> None:
        self.timeout = timeout
        self._sock = (context or zmq.Context.instance()).socket(zmq.SUB)
        self._sock.setsockopt(zmq.LINGER, 0)
        for t in topic_filters(topics):
            self._sock.setsockopt(zmq.SUBSCRIBE, t)
        self._sock.connect(api.events)
        self._seq = SeqTracker()
        self._rcvtimeo = -1

    def get(self, timeout: float | None = None) -> Event:
        """The next event; ClientTimeoutError after ``timeout`` seconds (default: the stream's)."""
        t = self.timeout if timeout is None else timeout
        ms = _ms(t)
        if ms != self._rcvtimeo:
            self._sock.setsockopt(zmq.RCVTIMEO, ms)
            self._rcvtimeo = ms
        try:
            frames = self._sock.recv_multipart()
        except zmq.Again:
            raise ClientTimeoutError(f"no event within {t} s") from None
        except zmq.ZMQError as e:
            if self._sock.closed:
                raise ClientClosedError("the event stream is closed") from None
            raise e
        return self._seq.decode(frames)

    def wait_for(self, event: str | Callable[[Event], bool], timeout: float) -> Event:
        """Skips events until one has this name (or passes the predicate); bounded by ``timeout`` in total."""
        match = (lambda e: e.name == event) if isinstance(event, str) else event
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ClientTimeoutError(f"no matching event within {timeout} s")
            e = self.get(left)
            if match(e):
                return e

    def __iter__(self) -> Iterator[Event]:
        while True:
            yield self.get()

    def close(self) -> None:
        self._sock.close(linger=0)

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
