/** Presence protocol: each side sends one length-prefixed JSON hello ({v, name, version}) and the responder answers with its own. */
export const PRESENCE_PROTOCOL = '/meshlink/presence/1.0.0'
/** Largest hello accepted, in bytes. */
export const PRESENCE_MAX_MESSAGE_BYTES = 4096
/** How long a hello exchange may take. */
export const PRESENCE_TIMEOUT_MS = 10_000
/** Redial backoff for known members that are offline: start, cap. */
export const REDIAL_MIN_MS = 1_000
export const REDIAL_MAX_MS = 30_000
/** How often the redial loop looks for members to dial. */
export const REDIAL_TICK_MS = 1_000
