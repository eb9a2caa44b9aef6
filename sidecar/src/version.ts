declare const MESHLINK_VERSION: string | undefined

/** The sidecar's version: injected by esbuild; '0.0.0-dev' when run from source. */
export const VERSION: string = typeof MESHLINK_VERSION === 'string' ? MESHLINK_VERSION : '0.0.0-dev'

/** The control protocol's version (the `v` of every envelope). */
export const PROTOCOL_VERSION = 1

/** The oldest Node major that runs the sidecar (js-libp2p 3 uses Promise.withResolvers). */
export const MIN_NODE_MAJOR = 22
