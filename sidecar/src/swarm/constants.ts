/** Members announce the artifacts they hold: one length-prefixed JSON message {v, artifacts:[{id, tag, size, files, createdAt, complete}]}. */
export const ARTIFACTS_PROTOCOL = '/meshlink/artifacts/1.0.0'
/**
 * Chunk exchange: the client sends length-prefixed JSON requests ({v, op: 'manifest'|'have'|'get', …}),
 * pipelined; the server answers each in order with a JSON header frame, followed by data frames for
 * `manifest` (≤ 1 MiB each) and `get` (the chunk, one frame). See schemas/PROTOCOL.md.
 */
export const CHUNKS_PROTOCOL = '/meshlink/chunks/1.0.0'
/** Largest announcement. */
export const ANNOUNCE_MAX_BYTES = 256 * 1024
/** Most artifacts one member may announce. */
export const MAX_ANNOUNCED_ARTIFACTS = 1024
/**
 * Holders asked for a manifest at once (swarm/fetch-manifest.ts). A fetch cannot request a chunk before
 * it has the manifest, and the nearest holder by ping may sit behind a slow link: on the namespace LAN
 * a 400 MiB artifact's manifest is about 250 KB, 20 ms from a 100 Mbit/s seeder and 100 ms from the
 * 20 Mbit/s one. Asking two costs one more copy of the manifest (about 0.06 % of the artifact's bytes).
 */
export const MANIFEST_SOURCES = 2
/** Largest frame on a chunks stream: a whole chunk (1 MiB) or a piece of a manifest. */
export const FRAME_MAX_BYTES = 1024 * 1024 + 1024
/**
 * Chunk requests in flight per peer: at most MAX_DEPTH, and no new one once the peer's window is
 * asked for (the pipeline is sized in bytes, whatever the chunk sizes). The window is the peer's
 * measured rate over PIPELINE_SECONDS plus its lowest RTT, between MIN_IN_FLIGHT_BYTES and
 * IN_FLIGHT_BYTES, and INITIAL_IN_FLIGHT_BYTES until a rate is measured. (A far peer once got a fixed
 * 3 requests instead, judged far by its latest RTT; measured while the fetch filled its link that was
 * 20-40 ms on the namespace LAN, so LAN seeders got ~450 KB in flight and idled their links.)
 * - a slow peer holds few chunks that the others must wait for (or duplicate) at the end of a fetch,
 *   or fetch again when it dies: a 20 Mbit/s seeder on the namespace LAN holds 512 KiB, not 2 MiB
 *   (0.8 s of its link);
 * - a fast one gets a deep pipeline, so a GC pause or a preempted thread on either side does not
 *   drain it: over loopback (2 vCPUs shared by both sidecars), 512 MiB fetches, medians of alternating
 *   runs: a fixed 2 MiB 157/194/186/168/172 MB/s, this 185/183/213/207/151 (a fixed 8 MiB: 195 and
 *   207 against 154 and 172). On the namespace LAN (about 1.2 MB per 100 Mbit/s seeder) the ratios
 *   stayed within the runs' noise; 0.2 s there gave more duplicated chunks at the end.
 * Replies are not flow-controlled by the reader (libp2p delivers stream data as it arrives), so
 * IN_FLIGHT_BYTES plus one largest chunk (1 MiB) must stay under STREAM_BUFFER_BYTES.
 */
export const MAX_DEPTH = 64
export const IN_FLIGHT_BYTES = 8 * 1024 * 1024
export const INITIAL_IN_FLIGHT_BYTES = 2 * 1024 * 1024
export const MIN_IN_FLIGHT_BYTES = 512 * 1024
export const PIPELINE_SECONDS = 0.1
/**
 * Endgame: a peer with room duplicates a chunk in flight elsewhere only if it would bring it in at
 * least this much sooner (swarm/fetcher.ts). The estimate of when a chunk is due there counts the
 * chunk that peer is sending as not started yet, so it runs late by up to that chunk's time (about
 * 10 ms for an average 128 KiB chunk from a 100 Mbit/s seeder); the margin covers that.
 */
export const ENDGAME_MIN_GAIN_S = 0.02
/** A peer's rate is measured over spans of at least this long with its pipeline busy (delivery-rate.ts). */
export const RATE_SPAN_MS = 250
/**
 * A peer's pipeline is topped up once this share of its window is free (a quarter),
 * not after every reply: requests then go out several per stream write. Every write of the
 * downloader is a trip through the kernel's network stack, and on the namespace LAN each one also
 * ran the pending packet processing of the whole emulated network in the downloader's context.
 */
export const REFILL_SHARE = 0.25
/**
 * Bytes of verified chunks being written (store and output) at once; past this no new requests go
 * out, so a disk slower than the network bounds memory at about this plus the requests in flight.
 * Writes are gathered (one in flight per file, the rest wait for it), so at a few hundred MB/s a
 * batch waiting for the one before it holds several MiB: with 2 MiB (16 chunks) the fetch stopped
 * asking for more while writes waited (loopback 512 MiB medians 130–135 MB/s, 8 MiB: 147–155).
 */
export const PENDING_WRITE_BYTES = 8 * 1024 * 1024
/**
 * What a server reads ahead per stream while the current reply is sent: requests are taken off the
 * stream until the replies waiting hold this many chunk bytes (or SERVER_READ_AHEAD_REPLIES replies).
 * Sized like the client's pipeline (IN_FLIGHT_BYTES), so a whole pipeline of requests is read at once,
 * adjacent chunks in one preadv (store/gathered-io.ts). Memory: about this much per stream, plus one chunk.
 */
export const SERVER_READ_AHEAD_BYTES = IN_FLIGHT_BYTES
export const SERVER_READ_AHEAD_REPLIES = MAX_DEPTH
/**
 * Replies that are ready one after another are written in one stream write of up to this many chunk
 * bytes (one yamux frame, at most the fetcher's window). js yamux answers every data frame it receives
 * with a window update, and each of those is a write (a system call) of the fetcher.
 */
export const SERVER_WRITE_BATCH_BYTES = 512 * 1024
/** What a chunks stream may buffer before libp2p resets it (depth × chunk plus headers). */
export const STREAM_BUFFER_BYTES = 12 * 1024 * 1024
/** Concurrent chunks streams per connection. */
export const MAX_CHUNK_STREAMS = 64
/** Setup timeout: opening a stream (dial, protocol), an announcement, and the start of a manifest's answer. */
export const SETUP_TIMEOUT_MS = 10_000
/** A chunk request unanswered this long fails its peer for this fetch (and a manifest's answer that stops this long). */
export const REQUEST_TIMEOUT_MS = 30_000
/** A fetch with chunks missing and no peer able to serve them gives up after this long. */
export const STALL_TIMEOUT_MS = 30_000
/** How often partial holders are asked again what they have, and holders are re-discovered. */
export const REFRESH_MS = 1_000
/** Least time between two transfer.progress events of one transfer. */
export const PROGRESS_INTERVAL_MS = 250
/**
 * A running transfer sends a transfer.progress event at least this often, even when nothing moved: a
 * view that follows events (the extension's notification) would otherwise keep showing the rate and
 * ETA of the last chunk while a fetch waits for a holder that stopped answering.
 */
export const PROGRESS_HEARTBEAT_MS = 1_000
/**
 * Shown rates read 0 (and the ETA unknown) once nothing arrived for this long: a transfer's, and a
 * peer's that has requests in flight. The scheduler keeps using the peer's measured rate.
 */
export const STALLED_AFTER_MS = 2_000
/**
 * Test-only fault injection, read once at start, comma-separated: `corrupt-chunks` makes this node flip
 * a byte in every chunk it serves (to test that fetchers drop it); `stall-manifests` makes it answer a
 * manifest request only after TEST_MANIFEST_STALL_MS (to test that a fetch gets it elsewhere). Never
 * set it outside tests.
 */
export const TEST_FAULTS: ReadonlySet<string> = new Set((process.env.MESHLINK_TEST_FAULT ?? '').split(',').filter(Boolean))
export const TEST_MANIFEST_STALL_MS = 60_000
