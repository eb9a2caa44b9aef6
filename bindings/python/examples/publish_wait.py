"""Publish a folder as an artifact and wait until a teammate has fetched it:
python examples/publish_wait.py PATH [--tag TAG] [--state DIR] [--timeout SECONDS]

It publishes PATH (artifacts_publish answers at once with a transfer; transfer.done carries the
artifact), prints the artifact id, then waits until a member other than this node holds a complete
copy (artifact.updated events, re-checked with artifacts() in case events were missed) and prints who.
A teammate fetches it with `meshlink fetch <id or tag> <dir>` (or artifacts_fetch()).
Exit status: 0 fetched, 4 nobody fetched it within --timeout, 1 the publish failed, 3 no sidecar.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import meshlink
from meshlink import models


def fetched_by(artifact: models.Artifact, me: str) -> list[models.ArtifactHoldersItem]:
    """The members other than this node that hold every chunk of the artifact."""
    return [h for h in artifact.holders if h.complete and h.peer != me]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--tag")
    ap.add_argument("--state")
    ap.add_argument("--timeout", type=float, default=600, help="seconds to wait for a teammate")
    args = ap.parse_args()
    try:
        client = meshlink.Client(args.state, timeout=10)
    except meshlink.SidecarNotRunningError as e:
        print(e, file=sys.stderr)
        return 3
    deadline = time.monotonic() + args.timeout
    # subscribe before acting: subscriptions reach the sidecar asynchronously
    with client, client.events("transfer.", "artifact.", timeout=1) as events:
        me = client.status().peer_id
        time.sleep(0.1)
        transfer = client.artifacts_publish(os.path.abspath(args.path), tag=args.tag).transfer
        print(f"publishing {transfer.path} (transfer {transfer.id})", flush=True)
        try:
            done = events.wait_for(lambda e: e.name in ("transfer.done", "transfer.failed") and e.data.transfer.id == transfer.id,
                                   max(0.0, deadline - time.monotonic()))
        except meshlink.ClientTimeoutError:
            print(f"the publish did not finish within {args.timeout:g} s", file=sys.stderr)
            return 4
        if done.name == "transfer.failed":
            err = done.data.transfer.error
            print(f"publish failed: {err.code}: {err.message}" if err else "publish failed", file=sys.stderr)
            return 1
        art = done.data.artifact
        size = f"{art.size} bytes in {art.files} file(s)"
        print(f"published {art.id}{f' as {art.tag}' if art.tag else ''} ({size}); waiting for a teammate to fetch it", flush=True)
        last_poll = 0.0
        while True:
            now = time.monotonic()
            if now >= deadline:
                print(f"nobody fetched {art.id} within {args.timeout:g} s", file=sys.stderr)
                return 4
            holders: list[models.ArtifactHoldersItem] = []
            if now - last_poll >= 5:  # events may be missed (slow subscriber): re-read the state now and then
                last_poll = now
                holders = [h for a in client.artifacts().artifacts if a.id == art.id for h in fetched_by(a, me)]
            if not holders:
                try:
                    e = events.get(min(1.0, max(0.01, deadline - now)))
                except meshlink.ClientTimeoutError:
                    continue
                if e.missed:
                    last_poll = 0.0
                if e.name == "artifact.updated" and e.data.artifact.id == art.id:
                    holders = fetched_by(e.data.artifact, me)
            if holders:
                for h in holders:
                    print(f"fetched by {h.name or '?'} ({h.peer})", flush=True)
                return 0


if __name__ == "__main__":
    sys.exit(main())
