"""The asyncio AsyncClient: concurrency, timeouts, cancellation, events."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sidecar import Sidecar
from test_client import SilentThenLateRouter

import meshlink
from meshlink import errors, models


def run(coro):  # no pytest-asyncio: one event loop per test
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_concurrent_calls(sidecar: Sidecar) -> None:
    async def main() -> None:
        async with meshlink.AsyncClient(sidecar.state_dir) as c:
            results = await asyncio.gather(*[c.status() for _ in range(50)], c.peers(), c.mesh_invite())
            assert all(isinstance(r, models.NodeStatusResult) for r in results[:50])
            assert results[50].peers == [] and results[51].code.startswith("ML1")
            with pytest.raises(errors.InvalidParamsError):
                await c.set_name("")
    run(main())


def test_timeout_and_cancellation(tmp_path: Path) -> None:
    SilentThenLateRouter(tmp_path, [None, None, 0.0])
    api = meshlink.ApiInfo(router=f"ipc://{tmp_path}/late.sock", events=f"ipc://{tmp_path}/late.sock", token="t")

    async def main() -> None:
        async with meshlink.AsyncClient(api=api) as c:
            t0 = time.monotonic()
            with pytest.raises(meshlink.ClientTimeoutError):
                await c.status(timeout=0.1)
            assert time.monotonic() - t0 < 0.5
            task = asyncio.ensure_future(c.status())
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert c._pending == {}  # nothing left behind
            assert (await c.set_name("z")).name == "r3"
        with pytest.raises(errors.ClientClosedError):
            await c.status()
    run(main())


def test_async_events(sidecar: Sidecar) -> None:
    async def main() -> None:
        async with meshlink.AsyncClient(sidecar.state_dir) as c:
            async with c.events("node.name", timeout=5) as ev:
                await asyncio.sleep(0.2)
                await c.set_name("async-name")
                async for e in ev:
                    assert isinstance(e.data, models.NodeNameEvent)
                    if e.data.name == "async-name":
                        break
                with pytest.raises(meshlink.ClientTimeoutError):
                    await ev.get(timeout=0.2)
            await c.set_name("pytest")
    run(main())
