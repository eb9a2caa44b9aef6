"""The asyncio client: one DEALER socket, any number of requests in flight (matched by id)."""

from __future__ import annotations

import asyncio
import itertools
import os
from typing import Any, AsyncIterator, Callable

import zmq
import zmq.asyncio

from ._errors_base import BadReplyError, ClientClosedError, ClientTimeoutError
from ._wire import decode_frame, encode_request
from .client import DEFAULT_TIMEOUT
from .discovery import ApiInfo, read_api_info
from .errors import error_from_wire
from .events import Event, SeqTracker, topic_filters
from .gen.methods import AsyncMethods


class AsyncClient(AsyncMethods):
    """The asyncio twin of Client: ``await client.status()``. Requests may overlap; cancelling an awaiting
    call (or its ``timeout=``) forgets it, and a late reply is dropped. Use ``async with`` or ``await aclose()``."""

    def __init__(self, state_dir: str | os.PathLike[str] | None = None, *, timeout: float | None = DEFAULT_TIMEOUT,
                 api: ApiInfo | None = None, context: zmq.asyncio.Context | None = None) -> None:
        self.api = api if api is not None else read_api_info(state_dir)
        self.timeout = timeout
        self._ctx = context or zmq.asyncio.Context.instance()
        self._sock = self._ctx.socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.connect(self.api.router)
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._closed = False

    async def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None) -> dict[str, Any]:
        """Calls any method by name and returns its raw ``result`` object."""
        return await self._request(method, params or {}, timeout)

    async def _request(self, method: str, params: dict[str, Any], timeout: float | None) -> dict[str, Any]:
        if self._closed:
            raise ClientClosedError("the client is closed")
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read(), name="meshlink-reader")
        t = self.timeout if timeout is None else timeout
        req_id = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = fut
        try:
            await self._sock.send(encode_request(req_id, self.api.token, method, params))
            msg = await asyncio.wait_for(fut, t)
        except asyncio.TimeoutError:
            raise ClientTimeoutError(f"the sidecar did not answer {method} within {t} s") from None
        finally:
            self._pending.pop(req_id, None)
        if "result" in msg:
            return msg["result"]
        raise error_from_wire(msg.get("error"), method)

    async def _read(self) -> None:
        try:
            while True:
                frames = await self._sock.recv_multipart()
                try:
                    msg = decode_frame(frames[-1])
                    fut = self._pending.pop(msg["id"], None)
                except (ValueError, KeyError, TypeError):
                    continue  # not ours to answer; the caller times out
                if fut is not None and not fut.done():
                    fut.set_result(msg)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the socket failed or closed: nobody will answer
            err = ClientClosedError("the client is closed") if self._closed else BadReplyError(f"receive failed: {e!r}")
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(err)

    def events(self, *topics: str, timeout: float | None = None) -> AsyncEventStream:
        """Subscribes to events whose topic starts with one of ``topics`` (none: all); ``async for`` it."""
        return AsyncEventStream(self.api, topics, timeout=timeout, context=self._ctx)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ClientClosedError("the client is closed"))
        self._sock.close(linger=0)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class AsyncEventStream:
    """An asyncio SUB socket on the sidecar's events; see EventStream."""

    def __init__(self, api: ApiInfo, topics: tuple[str, ...] | list[str] = (), *, timeout: float | None = None,
                 context: zmq.asyncio.Context | None = None) -> None:
        self.timeout = timeout
        self._sock = (context or zmq.asyncio.Context.instance()).socket(zmq.SUB)
        self._sock.setsockopt(zmq.LINGER, 0)
        for t in topic_filters(topics):
            self._sock.setsockopt(zmq.SUBSCRIBE, t)
        self._sock.connect(api.events)
        self._seq = SeqTracker()

    async def get(self, timeout: float | None = None) -> Event:
        """The next event; ClientTimeoutError after ``timeout`` seconds (default: the stream's)."""
        t = self.timeout if timeout is None else timeout
        try:
            frames = await asyncio.wait_for(self._sock.recv_multipart(), t)
        except asyncio.TimeoutError:
            raise ClientTimeoutError(f"no event within {t} s") from None
        return self._seq.decode(frames)

    async def wait_for(self, event: str | Callable[[Event], bool], timeout: float) -> Event:
        """Skips events until one has this name (or passes the predicate); bounded by ``timeout`` in total."""
        match = (lambda e: e.name == event) if isinstance(event, str) else event

        async def find() -> Event:
            while True:
                e = await self.get(None if self.timeout is None else self.timeout)
                if match(e):
                    return e
        try:
            return await asyncio.wait_for(find(), timeout)
        except asyncio.TimeoutError:
            raise ClientTimeoutError(f"no matching event within {timeout} s") from None

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[Event]:
        while True:
            yield await self.get()

    def close(self) -> None:
        self._sock.close(linger=0)

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
