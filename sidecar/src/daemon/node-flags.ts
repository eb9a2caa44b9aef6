/**
 * Node flags every launcher passes to the sidecar's runtime: bin/meshlink, `npm start`, the
 * extension's spawn and the benchmarks (node-flags.test.ts checks the two that cannot import this).
 *
 * The sidecar allocates a new Buffer for every TCP read, Noise message and chunk read: several hundred MB
 * of short-lived Buffers per second on a fast link, over a JS heap of only ~17 MB.
 *
 * `--initial-old-space-size=64` (MiB): with a heap that small, V8 sets its old-generation allocation
 * limit just above it, and the objects each scavenge promotes (the Buffers' wrappers, promises) reach
 * it many times a second. A loopback server ran 8-15 full mark-compacts per second (`gc` performance
 * entries, flag "schedule idle GC", the allocation-limit trigger), and concurrent marking and sweeping
 * were 28 % of its CPU samples (`perf`). A 64 MiB floor for that limit stops it: 0-2 per second.
 * Measured (2026-11-24, bench/sync/experiments/fetch-loop.ts, 512 MiB fetches, alternating runs): the
 * server's CPU per GiB served 4.0-4.6 -> 2.8 s, loopback fetches 190-200 -> 210-240 MB/s; LAN seeders
 * 1.3-2.1 -> 1.2-1.5 CPU s per 400 MiB round. Peak RSS stayed 164-206 MB (32 MiB was not enough:
 * 7-15 per second still; 96 MiB was no better than 64).
 *
 * `--max-semi-space-size=4` (MiB; Node 22's default is 16): a smaller young generation is scavenged
 * more often, which frees those Buffers before external memory piles up. Measured (2026-11-24, before
 * the flag above): LAN seeders about 22 % less CPU per round (median 4.6 against 5.9 CPU s), loopback
 * fetches 8-14 % less CPU per GiB for both sidecars together. 1, 2 and 8 MiB were worse than 4.
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--initial-old-space-size=64']
