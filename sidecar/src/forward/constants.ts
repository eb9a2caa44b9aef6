/** Carries one TCP connection: the guest sends a length-prefixed JSON header {v, service}, the host answers {v, ok, code?, message?}, then raw bytes both ways. */
export const FORWARD_PROTOCOL = '/meshlink/forward/1.0.0'
/** A member announces its services: one length-prefixed JSON message {v, services:[{name, port, allow}]}. */
export const SERVICES_PROTOCOL = '/meshlink/services/1.0.0'
/** Largest forward header or reply. */
export const FORWARD_HEADER_MAX_BYTES = 1024
/** Largest services announcement. */
export const SERVICES_MAX_BYTES = 64 * 1024
/** Most services one member may announce. */
export const MAX_SERVICES_PER_PEER = 256
/** Time for the header exchange and the host's connect to its target. */
export const FORWARD_SETUP_TIMEOUT_MS = 10_000
/** Concurrent forwarded connections per direction per connection to a peer (yamux streams). */
export const MAX_FORWARD_STREAMS = 1024
