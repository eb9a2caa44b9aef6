/**
 * Node flags every launcher passes to the sidecar's runtime: bin/meshlink, `npm start`, the
 * extension's spawn and the benchmarks (node-flags.test.ts checks the two that cannot import this).
 *
 * `--max-semi-space-size=4` (MiB; Node 22's default is 16): the sidecar allocates a new Buffer for
 * every TCP read, Noise message and chunk read, and V8 starts a full mark-compact each time 64 MB of
 * such memory has piled up since the last one. A smaller young generation is scavenged more often,
 * which frees those Buffers before they pile up, so there are fewer full collections and less
 * concurrent-marking work. Measured (2026-11-24, bench:sync LAN and bench/sync/experiments/fetch-loop.ts): seeders used about 22 % less CPU per
 * LAN round (median 4.6 against 5.9 CPU s), loopback fetches 8-14 % less CPU per GiB for both
 * sidecars together (three batches of alternating runs). 1, 2 and 8 MiB were worse than the default.
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4']
