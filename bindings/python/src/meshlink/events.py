"""Events from the sidecar's PUB socket: frames ``[topic, JSON envelope]`` (schemas/PROTOCOL.md, "Events")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from ._errors_base import BadReplyError
from ._wire import decode_frame, parse_datetime
from .gen.models import EVENTS


@dataclass(frozen=True, slots=True)
class Event:
    """One event. ``data`` is the event's generated model (e.g. PeerConnectedEvent); an event this
    binding does not know yet (a newer sidecar) keeps its data as a dict."""

    name: str
    seq: int
    time: datetime
    data: Any
    missed: int = 0
    """How many events this subscriber missed just before this one (a gap in ``seq``: ZeroMQ drops
    events for slow subscribers). When it is not 0, re-read the state with the methods."""


def topic_filters(topics: Iterable[str]) -> list[bytes]:
    """Subscriptions for the topic prefixes (``"peer."`` for every peer event); none means everything."""
    subs = [t.encode() for t in topics]
    return subs or [b""]


class SeqTracker:
    """Decodes event frames and counts gaps in seq."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: int | None = None

    def decode(self, frames: list[bytes]) -> Event:
        if len(frames) != 2:
            raise BadReplyError(f"an event is two frames [topic, json]; got {len(frames)}")
        try:
            env = decode_frame(frames[1])
            name, seq = env["event"], int(env["seq"])
            model = EVENTS.get(name)
            data = model.from_json(env["data"]) if model is not None else env["data"]
            when = parse_datetime(env["time"])
        except (ValueError, KeyError, TypeError) as e:
            raise BadReplyError(f"malformed event {frames[1][:200]!r}: {e!r}") from None
        missed = 0 if self.last is None else max(0, seq - self.last - 1)
        self.last = seq
        return Event(name=name, seq=seq, time=when, data=data, missed=missed)
