"""List the mesh's members: python examples/list_peers.py [STATE_DIR]  (default: $MESHLINK_STATE or the default state dir)."""

from __future__ import annotations

import sys

import meshlink


def main() -> int:
    try:
        client = meshlink.Client(sys.argv[1] if len(sys.argv) > 1 else None, timeout=5)
    except meshlink.SidecarNotRunningError as e:
        print(e, file=sys.stderr)
        return 3
    with client:
        status = client.status()
        print(f"{status.name} in mesh {status.mesh.name!r} ({status.mesh.id})")
        for p in client.peers().peers:
            state = f"online, {p.connection}" if p.connected else "offline"
            rtt = f", {p.rtt_ms:.1f} ms" if p.rtt_ms is not None else ""
            print(f"  {p.name or '?':20} {p.id}  {state}{rtt}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
