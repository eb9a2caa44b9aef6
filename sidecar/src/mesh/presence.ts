import { framedStream } from '../node/framed-stream.ts'
import type { ComponentLogger, Connection, Libp2pEvents, Logger, PeerId, Stream, TypedEventTarget, Startable } from '@libp2p/interface'
import type { Registrar, ConnectionManager } from '@libp2p/interface-internal'
import { PRESENCE_MAX_MESSAGE_BYTES, PRESENCE_PROTOCOL, PRESENCE_TIMEOUT_MS } from './constants.ts'
import { onePerMember } from './member-messages.ts'

/** What members tell each other on connect and on change. */
export interface Hello {
  v: 1
  name: string
  version: string
  /**
   * Other members the sender knows (peer exchange), so joining through any one member reaches
   * the whole mesh. Only members can send a hello (the Noise prologue), and entries are checked.
   */
  peers?: Array<{ id: string, addrs: string[] }>
}

/** Most members one hello may list, and addresses per member. */
export const HELLO_MAX_PEERS = 64
export const HELLO_MAX_ADDRS = 8
const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{40,128}$/

export interface PresenceInit {
  /** This node's current hello. */
  hello(): Hello
  /** Called for every valid hello a member sends. */
  onHello(peer: PeerId, hello: Hello, connection: Connection): void
}

export interface PresenceComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

/** Thrown for a hello that breaks the protocol; `message` names the fault. */
export class BadHelloError extends Error {
  readonly name = 'BadHelloError'
}

/** Parses and checks a hello from a peer (never trusted). */
export function parseHello (bytes: Uint8Array): Hello {
  let o: unknown
  try {
    o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new BadHelloError('hello is not UTF-8 JSON')
  }
  const h = o as Record<string, unknown>
  if (h === null || typeof h !== 'object' || Array.isArray(h)) throw new BadHelloError('hello is not an object')
  if (h.v !== 1) throw new BadHelloError(`hello version ${JSON.stringify(h.v)} is not supported`)
  if (typeof h.name !== 'string' || h.name.length < 1 || h.name.length > 64 || /[\u0000-\u001f\u007f]/.test(h.name)) throw new BadHelloError('hello has no valid name')
  if (typeof h.version !== 'string' || h.version.length > 64) throw new BadHelloError('hello has no valid version')
  const peers: Array<{ id: string, addrs: string[] }> = []
  if (h.peers !== undefined) {
    if (!Array.isArray(h.peers) || h.peers.length > HELLO_MAX_PEERS) throw new BadHelloError(`hello peers must be a list of at most ${HELLO_MAX_PEERS}`)
    for (const p of h.peers as Array<Record<string, unknown>>) {
      if (p === null || typeof p !== 'object' || typeof p.id !== 'string' || !PEER_ID.test(p.id)) throw new BadHelloError('hello lists a peer without a valid id')
      if (!Array.isArray(p.addrs) || p.addrs.length > HELLO_MAX_ADDRS || !p.addrs.every(a => typeof a === 'string' && a.startsWith('/') && a.length <= 512)) throw new BadHelloError(`hello lists peer ${p.id} without valid addresses`)
      peers.push({ id: p.id, addrs: p.addrs as string[] })
    }
  }
  return { v: 1, name: h.name, version: h.version, peers }
}

/** Exchanges display names between members over PRESENCE_PROTOCOL. */
export class Presence implements Startable {
  private readonly components: PresenceComponents
  private readonly init: PresenceInit
  private readonly log: Logger
  private readonly onIdentify = (evt: CustomEvent<{ peerId: PeerId, connection: Connection }>): void => {
    // the dialer starts the exchange; the answer carries the other side's hello
    if (evt.detail.connection.direction === 'outbound') void this.exchange(evt.detail.connection)
  }

  constructor (components: PresenceComponents, init: PresenceInit) {
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('meshlink:presence')
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(PRESENCE_PROTOCOL, (stream, connection) => this.answer(stream, connection), { maxInboundStreams: 4 })
    this.components.events.addEventListener('peer:identify', this.onIdentify as never)
  }

  async stop (): Promise<void> {
    this.components.events.removeEventListener('peer:identify', this.onIdentify as never)
    await this.components.registrar.unhandle(PRESENCE_PROTOCOL)
  }

  /** Sends our hello to every connected member (after a name change). */
  announce (): void {
    for (const c of onePerMember(this.components.connectionManager.getConnections())) void this.exchange(c)
  }

  private encode (): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.init.hello()))
  }

  private async exchange (connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(PRESENCE_TIMEOUT_MS)
    let stream: Stream | undefined
    try {
      stream = await connection.newStream(PRESENCE_PROTOCOL, { signal })
      const lp = framedStream(stream, { maxDataLength: PRESENCE_MAX_MESSAGE_BYTES })
      await lp.write(this.encode(), { signal })
      const hello = parseHello((await lp.read({ signal })).subarray())
      await stream.close({ signal })
      this.init.onHello(connection.remotePeer, hello, connection)
    } catch (err) {
      this.log.error('hello exchange with %p failed: %e', connection.remotePeer, err)
      stream?.abort(err as Error)
    }
  }

  private async answer (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(PRESENCE_TIMEOUT_MS)
    try {
      const lp = framedStream(stream, { maxDataLength: PRESENCE_MAX_MESSAGE_BYTES })
      const hello = parseHello((await lp.read({ signal })).subarray())
      await lp.write(this.encode(), { signal })
      await stream.close({ signal })
      this.init.onHello(connection.remotePeer, hello, connection)
    } catch (err) {
      this.log.error('bad hello from %p: %e', connection.remotePeer, err)
      stream.abort(err as Error)
    }
  }
}

export function presence (init: PresenceInit): (components: PresenceComponents) => Presence {
  return (components) => new Presence(components, init)
}
