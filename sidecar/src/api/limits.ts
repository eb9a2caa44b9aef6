/** Largest request we parse and answer with a proper error (bytes). */
export const MAX_REQUEST_BYTES = 1024 * 1024
/** libzmq's own cap (ZMQ_MAXMSGSIZE): past it the peer is disconnected without a reply. */
export const HARD_MAX_MESSAGE_BYTES = 8 * 1024 * 1024
/** Requests handled at once; further ones wait in the socket (ZeroMQ's high-water mark gives backpressure). */
export const MAX_IN_FLIGHT = 256
/** Most frames a request may have after the routing id: [payload] (DEALER) or [empty, payload] (REQ). */
export const MAX_FRAMES = 2
/** Longest a method may run before the client is told TIMEOUT. */
export const METHOD_TIMEOUT_MS = 30_000
