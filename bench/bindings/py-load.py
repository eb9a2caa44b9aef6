"""One measuring client process for `npm run bench:bindings` (Python side), like bench/api/dealer-load.ts:
a warm-up, then sequential node.status round trips for a bounded time; prints one JSON line.
via "client": the binding (meshlink.Client.status(): framing, id matching, typed model);
via "dealer": a bare pyzmq DEALER doing json.dumps / send / recv / json.loads (the baseline).
Usage: py-load.py '<json {endpoint, token, method, via, warmup, latSecs}>'"""

from __future__ import annotations

import json
import sys
import time

import zmq

import meshlink

MAX_SEQ = 200_000


def main() -> None:
    o = json.loads(sys.argv[1])
    if o["via"] == "client":
        api = meshlink.ApiInfo(router=o["endpoint"], events=o["endpoint"], token=o["token"])
        c = meshlink.Client(api=api, timeout=10)
        if o["method"] != "node.status":
            raise SystemExit("the client mode measures node.status")
        round_trip = c.status
    else:
        sock = zmq.Context.instance().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVTIMEO, 10_000)
        sock.connect(o["endpoint"])
        ids = iter(range(1, 1 << 62))
        token, method = o["token"], o["method"]

        def round_trip() -> None:
            i = next(ids)
            sock.send(json.dumps({"v": 1, "id": i, "token": token, "method": method, "params": {}}).encode())
            r = json.loads(sock.recv())
            if "result" not in r or r["id"] != i:
                raise RuntimeError(f"bad reply {r!r}"[:300])

    for _ in range(o["warmup"]):
        round_trip()
    lat: list[float] = []
    clock = time.perf_counter_ns
    t0 = time.perf_counter()
    end = t0 + o["latSecs"]
    while len(lat) < MAX_SEQ and time.perf_counter() < end:
        s = clock()
        round_trip()
        lat.append((clock() - s) / 1000)
    secs = time.perf_counter() - t0
    lat.sort()
    pick = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))]  # noqa: E731  (nearest rank, as bench/lib/stats.ts)
    print(json.dumps({"via": o["via"], "n": len(lat), "p50_us": pick(50), "p99_us": pick(99), "mean_us": sum(lat) / len(lat),
                      "seq_rps": len(lat) / secs}), flush=True)


if __name__ == "__main__":
    main()
