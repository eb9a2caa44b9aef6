import { isIP } from 'node:net'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Forward, Service } from '../gen/protocol-types.ts'
import { ApiError } from '../api/errors.ts'
import type { MeshNode, Publish } from '../mesh/mesh-node.ts'
import type { Logger } from '../log/logger.ts'
import { ShareStore, type Share } from './share-store.ts'
import { ServiceAnnouncer, type AnnouncedService } from './announce.ts'
import { ForwardHost } from './host.ts'
import { GuestForward } from './guest.ts'
import { FORWARD_PROTOCOL, MAX_FORWARD_STREAMS, MAX_SERVICES_PER_PEER } from './constants.ts'

const LOOPBACK = '127.0.0.1'

/**
 * Private service forwarding for the current mesh node: this node's shares (persisted), the
 * services members announce, the host side (access checked per stream) and the guest forwards.
 */
export class Forwarding {
  private readonly shares: ShareStore
  private readonly publish: Publish
  private readonly log: Logger
  private mesh: MeshNode | undefined
  private announcer: ServiceAnnouncer | undefined
  private readonly host: ForwardHost
  private readonly remote = new Map<string, AnnouncedService[]>()
  private readonly forwards = new Map<string, GuestForward>()
  /** Local port last used per peer/service, so a reopened forward gets the same port. */
  private readonly lastPort = new Map<string, number>()
  private readonly onConnect = (e: CustomEvent): void => this.hostOnline(String(e.detail))
  private readonly onDisconnect = (e: CustomEvent): void => this.hostOnline(String(e.detail))

  private readonly displayName: () => string

  constructor (sharesPath: string, displayName: () => string, publish: Publish, log: Logger) {
    this.shares = new ShareStore(sharesPath, log)
    this.displayName = displayName
    this.publish = publish
    this.log = log
    this.host = new ForwardHost({
      share: (name) => this.shares.get(name),
      onRefused: (service, peer, reason) => this.publish('service.refused', { service, peer, reason }),
      onAccepted: (service, peer) => this.publish('service.connected', { service, peer }),
      log: log.scope('host')
    })
  }

  /** Starts serving on a (new) mesh node. */
  async attach (mesh: MeshNode): Promise<void> {
    this.mesh = mesh
    const node = mesh.libp2p
    await node.handle(FORWARD_PROTOCOL, (stream, conn) => this.host.handle(stream, conn), { maxInboundStreams: MAX_FORWARD_STREAMS, maxOutboundStreams: MAX_FORWARD_STREAMS })
    this.announcer = new ServiceAnnouncer({
      node,
      mine: () => this.shares.list().map(s => ({ name: s.name, port: s.port, allow: s.allow })),
      onAnnouncement: (peer, services) => this.onAnnouncement(peer, services),
      log: this.log.scope('announce')
    })
    await this.announcer.start()
    node.addEventListener('peer:connect', this.onConnect)
    node.addEventListener('peer:disconnect', this.onDisconnect)
  }

  /** Tells connected members this node's services are gone (before leaving the mesh). */
  async withdraw (): Promise<void> {
    await this.announcer?.broadcast([])
  }

  /** Stops serving on the current node: forwards close, carried connections end. */
  async detach (reason: string): Promise<void> {
    const node = this.mesh?.libp2p
    if (node) {
      node.removeEventListener('peer:connect', this.onConnect)
      node.removeEventListener('peer:disconnect', this.onDisconnect)
      await this.announcer?.stop()
      await node.unhandle(FORWARD_PROTOCOL).catch(() => {})
    }
    for (const f of [...this.forwards.values()]) await this.closeForward(f, reason)
    this.host.closeAll()
    this.remote.clear()
    this.mesh = undefined
  }

  private need (): MeshNode {
    if (!this.mesh) throw new ApiError('NOT_READY', 'the mesh node is not running')
    return this.mesh
  }

  /** Resolves a peer id or a unique display name of a known member. */
  resolvePeer (who: string, field: string): string {
    const m = this.need()
    const peers = m.peers()
    if (who === m.peerId || peers.some(p => p.id === who)) return who
    const byName = peers.filter(p => p.name === who)
    if (byName.length === 1) return byName[0].id
    if (byName.length > 1) throw new ApiError('INVALID_PARAMS', `"${who}" is the name of ${byName.length} members; use a peer id (${byName.map(p => p.id).join(', ')})`, { path: field })
    throw new ApiError('NOT_FOUND', `no member of mesh "${m.mesh.name}" has the id or name "${who}"`, { path: field })
  }

  // ---- host side

  share (p: { port: number, name?: string, allow?: string[], host?: string }): Service {
    const name = p.name ?? String(p.port)
    const host = p.host ?? LOOPBACK
    if (isIP(host) === 0 && host !== 'localhost') throw new ApiError('INVALID_PARAMS', `host "${host}" is not an IP address or localhost`, { path: '/params/host' })
    if (this.shares.get(name) === undefined && this.shares.list().length >= MAX_SERVICES_PER_PEER) throw new ApiError('CONFLICT', `at most ${MAX_SERVICES_PER_PEER} services can be shared`)
    const allow = p.allow === undefined ? null : [...new Set(p.allow.map((a, i) => this.resolvePeer(a, `/params/allow/${i}`)))]
    const share: Share = { name, port: p.port, host, allow }
    this.shares.set(share)
    // re-sharing with a narrower allow list revokes access at once, open connections included
    this.host.closeService(name, (peer) => allow === null || allow.includes(peer))
    this.log.info('sharing %s (%s:%d) with %s', name, host, p.port, allow === null ? 'every member' : allow.join(', '))
    void this.announcer?.broadcast()
    const svc = this.mine(share)
    this.publish('service.updated', { service: svc })
    return svc
  }

  unshare (name: string): Service {
    const share = this.shares.delete(name)
    if (!share) throw new ApiError('NOT_FOUND', `no service "${name}" is shared by this node`, { path: '/params/name' })
    this.host.closeService(name)
    this.log.info('stopped sharing %s', name)
    void this.announcer?.broadcast()
    const svc = this.mine(share)
    this.publish('service.removed', { service: svc })
    return svc
  }

  private mine (s: Share): Service {
    const m = this.mesh
    return {
      host: m?.peerId ?? '',
      hostName: this.displayName(),
      name: s.name,
      port: s.port,
      allow: s.allow,
      online: true,
      mine: true,
      target: `${s.host}:${s.port}`
    }
  }

  services (): Service[] {
    const m = this.need()
    const out: Service[] = this.shares.list().map(s => this.mine(s))
    for (const [peer, list] of this.remote) for (const s of list) out.push(this.theirs(m, peer, s))
    return out
  }

  private theirs (m: MeshNode, peer: string, s: AnnouncedService): Service {
    const p = m.peer(peer)
    return { host: peer, hostName: p?.name ?? null, name: s.name, port: s.port, allow: s.allow, online: p?.connected ?? false, mine: false }
  }

  private onAnnouncement (peer: string, services: AnnouncedService[]): void {
    const m = this.mesh
    if (!m) return
    const before = new Map((this.remote.get(peer) ?? []).map(s => [s.name, s]))
    this.remote.set(peer, services)
    for (const s of services) {
      const old = before.get(s.name)
      before.delete(s.name)
      if (!old || old.port !== s.port || JSON.stringify(old.allow) !== JSON.stringify(s.allow)) {
        this.log.info('%s shares %s (port %d)', m.peer(peer)?.name ?? peer, s.name, s.port)
        this.publish('service.updated', { service: this.theirs(m, peer, s) })
      }
    }
    for (const gone of before.values()) {
      this.publish('service.removed', { service: this.theirs(m, peer, gone) })
      for (const f of [...this.forwards.values()]) {
        if (f.peer === peer && f.service === gone.name) void this.closeForward(f, `the host stopped sharing "${gone.name}"`)
      }
    }
  }

  private hostOnline (peer: string): void {
    const m = this.mesh
    for (const s of this.remote.get(peer) ?? []) if (m) this.publish('service.updated', { service: this.theirs(m, peer, s) })
  }

  // ---- guest side

  async open (p: { peer: string, service: string, port?: number, address?: string }): Promise<Forward> {
    const m = this.need()
    const peer = this.resolvePeer(p.peer, '/params/peer')
    if (peer === m.peerId) throw new ApiError('INVALID_PARAMS', 'that is this node: connect to the service directly', { path: '/params/peer' })
    const address = p.address ?? LOOPBACK
    if (isIP(address) === 0) throw new ApiError('INVALID_PARAMS', `address "${address}" is not an IP address`, { path: '/params/address' })
    const known = this.remote.get(peer)?.find(s => s.name === p.service)
    if (known === undefined) {
      const online = m.peer(peer)?.connected ?? false
      throw new ApiError(online ? 'NOT_FOUND' : 'PEER_UNREACHABLE', online ? `${m.peer(peer)?.name ?? peer} shares no service "${p.service}"` : `${m.peer(peer)?.name ?? peer} is offline and its services are not known yet`)
    }
    if (known.allow !== null && !known.allow.includes(m.peerId)) throw new ApiError('FORBIDDEN', `${m.peer(peer)?.name ?? peer} does not allow this node to use "${p.service}"`)
    for (const f of this.forwards.values()) {
      if (f.peer === peer && f.service === p.service && (p.port === undefined || p.port === f.port)) return f.toJSON()
    }
    const fwd = new GuestForward({
      node: () => this.need().libp2p,
      peer,
      peerName: () => this.mesh?.peer(peer)?.name ?? null,
      service: p.service,
      address,
      log: this.log.scope('guest'),
      onFailure: (f, code, reason) => this.publish('forward.failed', { forward: f.toJSON(), code, reason }),
      onChange: (f) => this.publish('forward.updated', { forward: f.toJSON() })
    })
    const key = `${peer}/${p.service}`
    // a host on this same machine: its service's port number is only free because the service is
    // down, and taking it would make the host's own connect land on this forward (a loop)
    const sameMachine = m.libp2p.getConnections(peerIdFromString(peer)).some(c => /^\/ip[46]\/(127\.|::1\/)/.test(c.remoteAddr.toString()))
    const preferred = p.port ?? this.lastPort.get(key) ?? (sameMachine ? 0 : known.port)
    try {
      await fwd.listen(preferred)
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      if (p.port !== undefined && p.port !== 0) {
        throw new ApiError(e.code === 'EADDRINUSE' ? 'CONFLICT' : 'INVALID_PARAMS', `cannot listen on ${address}:${p.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`, { path: '/params/port' })
      }
      try {
        await fwd.listen(0)
      } catch (err2) {
        throw new ApiError('INVALID_PARAMS', `cannot listen on ${address}: ${(err2 as Error).message}`, { path: '/params/address' })
      }
    }
    this.lastPort.set(key, fwd.port)
    this.forwards.set(fwd.id, fwd)
    this.log.info('forward %s: %s:%d -> %s/%s', fwd.id, address, fwd.port, peer, p.service)
    const out = fwd.toJSON()
    this.publish('forward.opened', { forward: out })
    return out
  }

  async close (id: string): Promise<Forward> {
    const f = this.forwards.get(id)
    if (!f) throw new ApiError('NOT_FOUND', `no forward with id ${id}`, { path: '/params/id' })
    return this.closeForward(f, 'closed')
  }

  private async closeForward (f: GuestForward, reason: string): Promise<Forward> {
    this.forwards.delete(f.id)
    await f.close()
    const out = f.toJSON()
    this.log.info('forward %s closed: %s', f.id, reason)
    this.publish('forward.closed', { forward: out, reason })
    return out
  }

  list (): Forward[] {
    return [...this.forwards.values()].map(f => f.toJSON())
  }
}
