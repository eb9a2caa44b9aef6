import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import { ping, type Ping } from '@libp2p/ping'
import { mdns } from '@libp2p/mdns'
import type { PrivateKey } from '@libp2p/interface'
import { presence, type Presence, type PresenceInit } from '../mesh/presence.ts'
import { mdnsServiceTag, noisePrologue, type MeshRecord } from '../mesh/mesh-key.ts'
import { DIAL_TIMEOUT_MS, INITIAL_STREAM_WINDOW_BYTES, MAX_CONNECTIONS, MAX_STREAM_READ_BUFFER_BYTES, MAX_STREAM_WINDOW_BYTES, MDNS_INTERVAL_MS } from './constants.ts'
import { VERSION } from '../version.ts'

export type MeshNodeServices = {
  identify: Identify
  ping: Ping
  presence: Presence
}
export type MeshLibp2p = Libp2p<MeshNodeServices>

export interface CreateNodeOptions {
  privateKey: PrivateKey
  mesh: MeshRecord
  /** Multiaddrs to listen on. */
  listen: string[]
  /** Announce and discover over mDNS. */
  mdns: boolean
  presence: PresenceInit
}

/**
 * Composes the libp2p node of one mesh: TCP, Noise (bound to the mesh by its prologue), yamux,
 * identify, ping, presence and (optionally) mDNS scoped to the mesh. Only composition lives here.
 */
export async function createMeshNode (opts: CreateNodeOptions): Promise<MeshLibp2p> {
  return createLibp2p({
    privateKey: opts.privateKey,
    start: false,
    addresses: { listen: opts.listen },
    transports: [tcp()],
    connectionEncrypters: [noise({ prologueBytes: noisePrologue(opts.mesh) })],
    streamMuxers: [yamux({ streamOptions: { initialStreamWindowSize: INITIAL_STREAM_WINDOW_BYTES, maxStreamWindowSize: MAX_STREAM_WINDOW_BYTES, maxReadBufferLength: MAX_STREAM_READ_BUFFER_BYTES } })],
    peerDiscovery: opts.mdns ? [mdns({ serviceTag: mdnsServiceTag(opts.mesh), interval: MDNS_INTERVAL_MS })] : [],
    connectionManager: { maxConnections: MAX_CONNECTIONS, dialTimeout: DIAL_TIMEOUT_MS },
    nodeInfo: { userAgent: `meshlink/${VERSION}` },
    services: {
      identify: identify(),
      ping: ping({ maxOutboundStreams: 8 }), // the default 1 made a user's ping collide with the node's own first ping
      presence: presence(opts.presence)
    }
  })
}
