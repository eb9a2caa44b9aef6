"""Share a local TCP port with the mesh and print who connects:
python examples/share_port.py PORT [NAME] [--state DIR] [--seconds N]

It shares PORT under NAME, serves a tiny greeting there itself (so the example is self-contained;
share your dev server's port instead), prints the member behind each accepted connection
(`service.connected`, named through `peers()`) and each member the sidecar refused
(`service.refused`), and unshares on exit (Ctrl-C or --seconds). A teammate opens it with
`meshlink open <your name> NAME` (or forwards_open()).

Carried connections reach the port from the sidecar (127.0.0.1), so the member is known only from
the event, not from the socket.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time

import meshlink


def serve(srv: socket.socket, stop: threading.Event) -> None:
    srv.settimeout(0.5)
    while not stop.is_set():
        try:
            conn, _ = srv.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        with conn:
            conn.sendall(b"hello from the mesh\n")


def member_name(client: meshlink.Client, peer_id: str) -> str:
    """The member's display name (from peers()), else its id."""
    for p in client.peers().peers:
        if p.id == peer_id:
            return f"{p.name} ({peer_id})" if p.name else peer_id
    return peer_id


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("name", nargs="?")
    ap.add_argument("--state")
    ap.add_argument("--seconds", type=float, default=3600, help="how long to share (bounded)")
    args = ap.parse_args()
    srv = socket.create_server(("127.0.0.1", args.port))
    stop = threading.Event()
    threading.Thread(target=serve, args=(srv, stop), daemon=True).start()
    with meshlink.Client(args.state, timeout=10) as client, client.events("service.", timeout=1) as events:
        svc = client.services_share(args.port, name=args.name).service
        print(f"sharing {svc.name} ({svc.target}) with {'every member' if svc.allow is None else ', '.join(svc.allow)}", flush=True)
        end = time.monotonic() + args.seconds
        try:
            while time.monotonic() < end:
                try:
                    e = events.get()
                except meshlink.ClientTimeoutError:
                    continue
                if e.name == "service.connected" and e.data.service == svc.name:
                    print(f"{member_name(client, e.data.peer)} connected to {svc.name}", flush=True)
                elif e.name == "service.refused" and e.data.service == svc.name:
                    print(f"refused {member_name(client, e.data.peer)}: {e.data.reason}", flush=True)
        except KeyboardInterrupt:
            pass
        finally:
            client.services_unshare(svc.name)
            stop.set()
            srv.close()
            print(f"stopped sharing {svc.name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
