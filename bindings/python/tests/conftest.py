from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from sidecar import Sidecar  # noqa: E402


@pytest.fixture(scope="module")
def sidecar() -> Iterator[Sidecar]:
    """A sidecar shared by the tests of one module."""
    s = Sidecar(name="pytest")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Sidecar, Sidecar]]:
    """Two sidecars (alice, bob) for tests that need a second member."""
    a = Sidecar(name="alice")
    try:
        b = Sidecar(name="bob")
    except BaseException:
        a.stop()
        raise
    yield a, b
    b.stop()
    a.stop()
