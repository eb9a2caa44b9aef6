/** Default TCP port for mesh connections; a busy port falls back to a random one. */
export const DEFAULT_LISTEN_PORT = 4455
/** How often mDNS queries the LAN (ms); js-libp2p's default is 10 s. */
export const MDNS_INTERVAL_MS = 5_000
/** How long an outbound dial may take before we give up on that attempt. */
export const DIAL_TIMEOUT_MS = 10_000
/** Cap on open connections; a team mesh is small. */
export const MAX_CONNECTIONS = 300
/**
 * yamux grows a stream's receive window up to this. A paused stream (its local reader is slow) can
 * still receive one window of data, which lands in its read buffer: keeping the window at or below
 * the read-buffer cap bounds memory per stream instead of resetting the stream (yamux default 16 MiB).
 * 4 MiB still fills a LAN link: at 1 ms RTT it allows ~4 GB/s per stream.
 */
export const MAX_STREAM_WINDOW_BYTES = 4 * 1024 * 1024
/**
 * The receive window a stream opens with (advertised to the peer in its SYN/ACK; the spec's start is
 * 256 KiB, see scripts/dependency-patches.mjs). yamux grows a window from the RTT its keep-alive ping
 * measured, in whole milliseconds: on a LAN that is 0 or 1, and the window never grew. A stream then
 * carried at most 256 KiB per round trip of the window updates, and that round trip includes the
 * sender's bottleneck queue and the receiver's event-loop delay, not just the wire: on the namespace
 * LAN a seeder's connection sat "app_limited" with ~150 KB queued while nginx kept 2 MB queued.
 */
export const INITIAL_STREAM_WINDOW_BYTES = 2 * 1024 * 1024
/** What a paused stream may buffer before libp2p resets it; above MAX_STREAM_WINDOW_BYTES on purpose. */
export const MAX_STREAM_READ_BUFFER_BYTES = 8 * 1024 * 1024
