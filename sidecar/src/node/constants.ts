/** Default TCP port for mesh connections; a busy port falls back to a random one. */
export const DEFAULT_LISTEN_PORT = 4455
/** How often mDNS queries the LAN (ms); js-libp2p's default is 10 s. */
export const MDNS_INTERVAL_MS = 5_000
/** How long an outbound dial may take before we give up on that attempt. */
export const DIAL_TIMEOUT_MS = 10_000
/** Cap on open connections; a team mesh is small. */
export const MAX_CONNECTIONS = 300
