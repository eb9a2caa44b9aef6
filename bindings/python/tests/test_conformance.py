"""Replays schemas/conformance/*.json against a real sidecar, as the TypeScript and Go tests do.
Format and order: schemas/conformance/README.md. Replies are checked against the JSON Schemas, and
every result is also decoded with the generated model and re-encoded to the same JSON."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from sidecar import SCHEMAS, Sidecar

from meshlink import models

FIXTURES = sorted((SCHEMAS / "conformance").glob("*.json"))
REPLY_TIMEOUT_MS = 10_000
EVENTS_TIMEOUT = 5.0
STOP_TIMEOUT = 15.0


# The schemas' $ids are meshlink:/… URIs with relative $refs (../types/peer.json); urljoin resolves
# relative references only for schemes it lists.
if "meshlink" not in urllib.parse.uses_relative:
    urllib.parse.uses_relative.append("meshlink")


def _registry() -> Registry:
    resources = []
    for p in SCHEMAS.rglob("*.json"):
        if "conformance" in p.parts:
            continue
        doc = json.loads(p.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


REGISTRY = _registry()
FORMATS = Draft202012Validator.FORMAT_CHECKER


def validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": ref}, registry=REGISTRY, format_checker=FORMATS)


RESPONSE = validator("meshlink:/envelope.json#/$defs/Response")
EVENT = validator("meshlink:/envelope.json#/$defs/Event")


def assert_valid(v: Draft202012Validator, doc: Any, what: str) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]
    assert not errors, f"{what}: {errors[:3]} in {json.dumps(doc)[:500]}"


def assert_subset(got: Any, want: Any, path: str = "") -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{path or '/'} should be an object, is {got!r}"
        for k, v in want.items():
            assert k in got, f"{path}/{k} is missing"
            assert_subset(got[k], v, f"{path}/{k}")
    else:
        assert got == want and type(got) is type(want), f"{path or '/'} differs: {got!r} != {want!r}"


def pointer(doc: Any, ptr: str) -> Any:
    for raw in ptr.split("/")[1:]:
        key = raw.replace("~1", "/").replace("~0", "~")
        doc = doc[int(key)] if isinstance(doc, list) else doc[key]
    return doc


class Replay:
    def __init__(self) -> None:
        self.sidecar = Sidecar(name="conformance")
        ctx = zmq.Context.instance()
        self.sub = ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.sub.connect(self.sidecar.info.events)
        self.dealer = ctx.socket(zmq.DEALER)
        self.dealer.setsockopt(zmq.LINGER, 0)
        self.dealer.setsockopt(zmq.RCVTIMEO, REPLY_TIMEOUT_MS)
        self.dealer.connect(self.sidecar.info.router)
        time.sleep(0.2)  # let the subscription reach the PUB socket
        self.vars: dict[str, Any] = {"token": self.sidecar.info.token}
        self.last_seq: int | None = None

    def subst(self, x: Any) -> Any:
        if isinstance(x, str):
            def one(m: re.Match[str]) -> str:
                assert m.group(1) in self.vars, f"placeholder {{{{{m.group(1)}}}}} used before any fixture saved it"
                return str(self.vars[m.group(1)])
            return re.sub(r"\{\{(\w+)\}\}", one, x)
        if isinstance(x, list):
            return [self.subst(v) for v in x]
        if isinstance(x, dict):
            return {k: self.subst(v) for k, v in x.items()}
        return x

    def next_event(self, deadline: float) -> dict[str, Any]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sub.setsockopt(zmq.RCVTIMEO, max(1, int(left * 1000)))
        try:
            topic, body = self.sub.recv_multipart()
        except zmq.Again:
            raise TimeoutError from None
        e = json.loads(body)
        assert_valid(EVENT, e, "event breaks envelope.json#/$defs/Event")
        assert topic.decode() == e["event"], "the topic frame names the event"
        assert e["event"] in models.EVENTS, f"unknown event {e['event']}"
        assert_valid(validator(f"meshlink:/events/{e['event']}.json"), e["data"], f"{e['event']} data")
        assert models.EVENTS[e["event"]].from_json(e["data"]).to_json() == e["data"], "event model round trip"
        if self.last_seq is not None:
            assert e["seq"] == self.last_seq + 1, f"seq jumped from {self.last_seq} to {e['seq']}"
        self.last_seq = e["seq"]
        return e

    def close(self) -> None:
        self.dealer.close(0)
        self.sub.close(0)
        self.sidecar.stop()


@pytest.fixture(scope="module")
def replay() -> Iterator[Replay]:
    r = Replay()
    yield r
    r.close()


def test_only_the_last_fixture_stops_the_sidecar() -> None:
    stopping = [p.name for p in FIXTURES if json.loads(p.read_text()).get("stops") is True]
    assert stopping in ([], [FIXTURES[-1].name])


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_fixture(replay: Replay, path: Path) -> None:
    assert replay.sidecar.proc.poll() is None, "the sidecar is not running (an earlier fixture stopped it?)"
    fx = json.loads(path.read_text())
    exp = fx["expect"]
    frame = replay.subst(fx["raw"]).encode() if "raw" in fx else json.dumps(replay.subst(fx["request"]), separators=(",", ":")).encode()
    replay.dealer.send(frame)
    (reply,) = replay.dealer.recv_multipart()
    msg = json.loads(reply)
    assert_valid(RESPONSE, msg, "reply breaks the response schema")
    assert msg["id"] == exp["id"], "reply id"
    if "error" in exp:
        assert "error" in msg, f"expected error {exp['error']}, got {reply!r}"
        assert msg["error"]["code"] == exp["error"], f"expected error {exp['error']}, got {reply!r}"
        if "data" in exp:
            assert_subset(msg["error"].get("data"), replay.subst(exp["data"]), "/error/data")
    else:
        assert "result" in msg, f"expected a result, got {reply!r}"
        method = exp["result"]
        assert_valid(validator(f"meshlink:/methods/{method}.json#/$defs/result"), msg["result"], f"result of {method}")
        # the generated model reads every field and writes back the same JSON
        assert models.METHODS[method][1].from_json(msg["result"]).to_json() == msg["result"], "model round trip"
        for name, ptr in exp.get("save", {}).items():
            replay.vars[name] = pointer(msg["result"], ptr)
        if "match" in exp:
            assert_subset(msg["result"], replay.subst(exp["match"]), "/result")
    deadline = time.monotonic() + EVENTS_TIMEOUT
    for want in exp.get("events", []):
        match = replay.subst(want.get("match", {}))
        seen: list[str] = []
        while True:
            try:
                e = replay.next_event(deadline)
            except TimeoutError:
                pytest.fail(f"no {want['event']} event matching {match} within {EVENTS_TIMEOUT} s; saw {seen or 'none'}")
            seen.append(f"{e['event']} {json.dumps(e['data'])}")
            if e["event"] != want["event"]:
                continue
            try:
                assert_subset(e["data"], match)
            except AssertionError:
                continue
            break
    if fx.get("stops") is True:
        code = replay.sidecar.wait_exit(STOP_TIMEOUT)
        assert code == 0, f"node.shutdown ends the sidecar cleanly (exit {code})"
        assert not (replay.sidecar.state_dir / "api.json").exists(), "api.json is removed on shutdown"
