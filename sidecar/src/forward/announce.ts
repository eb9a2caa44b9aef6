import { onePerMember, readOneMessage, sendOneMessage } from '../mesh/member-messages.ts'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { MAX_SERVICES_PER_PEER, SERVICES_MAX_BYTES, SERVICES_PROTOCOL, FORWARD_SETUP_TIMEOUT_MS } from './constants.ts'
import type { MeshLibp2p } from '../node/create-node.ts'
import type { Logger } from '../log/logger.ts'

/** A service as members announce it to each other. */
export interface AnnouncedService {
  name: string
  port: number
  allow: string[] | null
}

export class BadAnnouncementError extends Error {
  readonly name = 'BadAnnouncementError'
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/
const PEER = /^[1-9A-HJ-NP-Za-km-z]{40,128}$/

/** Parses a member's announcement; never trusted. */
export function parseAnnouncement (bytes: Uint8Array): AnnouncedService[] {
  let o: unknown
  try { o = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) } catch { throw new BadAnnouncementError('announcement is not UTF-8 JSON') }
  const r = o as { v?: unknown, services?: unknown }
  if (r === null || typeof r !== 'object' || r.v !== 1 || !Array.isArray(r.services)) throw new BadAnnouncementError('announcement is not {v: 1, services: [...]}')
  if (r.services.length > MAX_SERVICES_PER_PEER) throw new BadAnnouncementError(`announcement lists ${r.services.length} services; the limit is ${MAX_SERVICES_PER_PEER}`)
  const seen = new Set<string>()
  return r.services.map((s: Record<string, unknown>, i: number) => {
    if (s === null || typeof s !== 'object') throw new BadAnnouncementError(`service ${i} is not an object`)
    if (typeof s.name !== 'string' || !NAME.test(s.name) || seen.has(s.name)) throw new BadAnnouncementError(`service ${i} has no valid, unique name`)
    seen.add(s.name)
    if (!Number.isInteger(s.port) || (s.port as number) < 1 || (s.port as number) > 65535) throw new BadAnnouncementError(`service ${s.name} has no valid port`)
    const allow = s.allow === null ? null : Array.isArray(s.allow) && s.allow.length <= 256 && s.allow.every(a => typeof a === 'string' && PEER.test(a)) ? s.allow as string[] : undefined
    if (allow === undefined) throw new BadAnnouncementError(`service ${s.name} has no valid allow list`)
    return { name: s.name, port: s.port as number, allow }
  })
}

export interface AnnouncerInit {
  node: MeshLibp2p
  /** Our services, as announced. */
  mine(): AnnouncedService[]
  /** A member announced its (complete) list. */
  onAnnouncement(peer: string, services: AnnouncedService[]): void
  log: Logger
}

/**
 * Tells members which services this node shares (on every new connection and on every change)
 * and hands their announcements to onAnnouncement.
 */
export class ServiceAnnouncer {
  private readonly init: AnnouncerInit
  private readonly onIdentify = (evt: CustomEvent<{ peerId: PeerId, connection: Connection }>): void => {
    void this.sendTo(evt.detail.connection)
  }

  constructor (init: AnnouncerInit) {
    this.init = init
  }

  async start (): Promise<void> {
    await this.init.node.handle(SERVICES_PROTOCOL, (stream, connection) => this.receive(stream, connection), { maxInboundStreams: 4 })
    this.init.node.addEventListener('peer:identify', this.onIdentify as never)
  }

  async stop (): Promise<void> {
    this.init.node.removeEventListener('peer:identify', this.onIdentify as never)
    await this.init.node.unhandle(SERVICES_PROTOCOL).catch(() => {})
  }

  /** Sends our list (or `services`) to every connected member; resolves when all were tried. */
  async broadcast (services?: AnnouncedService[]): Promise<void> {
    await Promise.all(onePerMember(this.init.node.getConnections()).map(c => this.sendTo(c, services)))
  }

  private async sendTo (connection: Connection, services = this.init.mine()): Promise<void> {
    try {
      await sendOneMessage(connection, SERVICES_PROTOCOL, { v: 1, services }, SERVICES_MAX_BYTES, FORWARD_SETUP_TIMEOUT_MS)
    } catch (err) {
      this.init.log.debug('could not announce services to %s: %s', connection.remotePeer.toString(), err)
    }
  }

  private async receive (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    try {
      const services = parseAnnouncement(await readOneMessage(stream, SERVICES_MAX_BYTES, FORWARD_SETUP_TIMEOUT_MS))
      this.init.onAnnouncement(peer, services)
    } catch (err) {
      this.init.log.warn('bad services announcement from %s: %s', peer, err)
      stream.abort(err as Error)
    }
  }
}
