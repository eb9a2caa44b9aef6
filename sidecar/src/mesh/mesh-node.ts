import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, PeerId, PrivateKey, IdentifyResult, PeerInfo } from '@libp2p/interface'
import { createMeshNode, type MeshLibp2p } from '../node/create-node.ts'
import { PeerBook, type PeerRecord } from './peer-book.ts'
import type { MeshRecord } from './mesh-key.ts'
import { HELLO_MAX_ADDRS, HELLO_MAX_PEERS, type Hello } from './presence.ts'
import type { Logger } from '../log/logger.ts'
import type { Events, Peer } from '../gen/protocol-types.ts'
import { REDIAL_MAX_MS, REDIAL_MIN_MS, REDIAL_TICK_MS } from './constants.ts'
import { VERSION } from '../version.ts'

export type Publish = <E extends keyof Events>(event: E, data: Events[E]) => void

export interface MeshNodeOptions {
  privateKey: PrivateKey
  mesh: MeshRecord
  /** Path of this mesh's peer book. */
  peerBookPath: string
  listen: string[]
  mdns: boolean
  /** Multiaddrs (with /p2p/) to dial at start. */
  bootstrap: string[]
  displayName: () => string
  publish: Publish
  log: Logger
}

const MAX_OBSERVED = 8
/** How long listenAddrs() may answer from its cache. */
const ADDRS_CACHE_MS = 1000
/** How often interface addresses are looked at, so an IP change becomes a node.addresses event. */
const ADDRS_CHECK_MS = 5000

function isLoopback (addr: string): boolean {
  return addr.startsWith('/ip4/127.') || addr.startsWith('/ip6/::1/')
}

/** Strips a trailing /p2p/<id> so addresses are stored once per transport address. */
function transportAddr (ma: Multiaddr): string {
  const s = ma.toString()
  const i = s.indexOf('/p2p/')
  return i === -1 ? s : s.slice(0, i)
}

/**
 * The running libp2p node of one mesh, with what membership needs around it: the peer book,
 * presence (names), RTTs, redial of known members with backoff, mDNS-discovered dials, and
 * the API events. A mesh switch stops this object and starts a new one.
 */
export class MeshNode {
  readonly mesh: MeshRecord
  readonly book: PeerBook
  private node!: MeshLibp2p
  private readonly opts: MeshNodeOptions
  private readonly log: Logger
  private readonly rtt = new Map<string, number>()
  private readonly observed: string[] = []
  private readonly redial = new Map<string, { next: number, delay: number }>()
  private readonly dialing = new Set<string>()
  private redialTimer: NodeJS.Timeout | undefined
  private lastAddrs = ''
  private addrsCache: { at: number, addrs: string[] } | undefined
  private addrsTimer: NodeJS.Timeout | undefined
  private stopped = false

  constructor (opts: MeshNodeOptions) {
    this.opts = opts
    this.mesh = opts.mesh
    this.log = opts.log
    this.book = new PeerBook(opts.peerBookPath, opts.log.scope('peers'))
  }

  get peerId (): string {
    return this.node.peerId.toString()
  }

  get libp2p (): MeshLibp2p {
    return this.node
  }

  async start (): Promise<void> {
    this.node = await createMeshNode({
      privateKey: this.opts.privateKey,
      mesh: this.mesh,
      listen: this.opts.listen,
      mdns: this.opts.mdns,
      presence: {
        hello: (): Hello => ({ v: 1, name: this.opts.displayName(), version: VERSION, peers: this.exchangeList() }),
        onHello: (peer, hello, connection) => this.onHello(peer, hello, connection)
      }
    })
    const n = this.node
    n.addEventListener('peer:connect', (e) => this.onConnect(e.detail))
    n.addEventListener('peer:disconnect', (e) => this.onDisconnect(e.detail))
    n.addEventListener('peer:identify', (e) => this.onIdentify(e.detail))
    n.addEventListener('peer:discovery', (e) => this.onDiscovery(e.detail))
    n.addEventListener('self:peer:update', () => { this.addrsCache = undefined; this.publishAddrsIfChanged() })
    await n.start()
    this.lastAddrs = JSON.stringify(this.listenAddrs())
    this.log.info('mesh %s (%s) node %s listening on %s', this.mesh.name, this.mesh.id, this.peerId, this.listenAddrs().join(' ') || '(nothing)')
    for (const rec of this.book.list()) await this.rememberAddrs(rec)
    // a bootstrap address may be stale or belong to another mesh (the Noise prologue then fails the
    // handshake): log it, never let the rejection go unhandled, which would end the process
    for (const b of this.opts.bootstrap) {
      this.dialAddr(b).catch((err) => this.log.warn('bootstrap dial of %s failed: %s', b, err))
    }
    this.redialTimer = setInterval(() => this.redialTick(), REDIAL_TICK_MS)
    this.redialTimer.unref()
    this.addrsTimer = setInterval(() => this.publishAddrsIfChanged(), ADDRS_CHECK_MS)
    this.addrsTimer.unref()
    this.redialTick()
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.redialTimer) clearInterval(this.redialTimer)
    if (this.addrsTimer) clearInterval(this.addrsTimer)
    this.book.flush()
    await this.node.stop()
  }

  /** This node's dialable addresses, each ending in /p2p/<id>. */
  listenAddrs (): string[] {
    // getMultiaddrs() expands wildcard listeners over every interface: cheap once, not per API call
    const now = Date.now()
    if (this.addrsCache === undefined || now - this.addrsCache.at > ADDRS_CACHE_MS) {
      this.addrsCache = { at: now, addrs: this.node.getMultiaddrs().map(a => a.toString()) }
    }
    return this.addrsCache.addrs
  }

  observedAddrs (): string[] {
    return [...this.observed]
  }

  /** Number of members with an open connection. */
  connectedCount (): number {
    return this.node.getPeers().length
  }

  peers (): Peer[] {
    return this.book.list().map(r => this.toPeer(r))
  }

  peer (id: string): Peer | undefined {
    const r = this.book.get(id)
    return r ? this.toPeer(r) : undefined
  }

  private toPeer (r: PeerRecord): Peer {
    const conns = this.node.getConnections(peerIdFromString(r.id)).filter(c => c.status === 'open')
    const connected = conns.length > 0
    const direct = conns.some(c => c.limits === undefined && !c.remoteAddr.toString().includes('/p2p-circuit'))
    const monitored = conns.map(c => c.rtt).find(x => typeof x === 'number' && x >= 0)
    const rtt = connected ? (monitored ?? this.rtt.get(r.id) ?? null) : null
    return {
      id: r.id,
      name: r.name,
      addrs: r.addrs,
      connected,
      connection: connected ? (direct ? 'direct' : 'relayed') : null,
      rttMs: rtt,
      lastSeen: connected ? new Date().toISOString() : r.lastSeen
    }
  }

  /** Dials a multiaddr that ends in /p2p/<id>; resolves to the peer id on success. */
  async dialAddr (addr: string, signal?: AbortSignal): Promise<string> {
    const ma = multiaddr(addr)
    const conn = await this.node.dial(ma, { signal })
    return conn.remotePeer.toString()
  }

  /** Dials a member by id using its known addresses. */
  async dialPeer (id: string, signal?: AbortSignal): Promise<Connection> {
    return this.node.dial(peerIdFromString(id), { signal })
  }

  /** Adds a member learned from an invite (before it has ever connected). */
  async addMember (id: string, addrs: string[]): Promise<void> {
    const { record } = this.book.upsert(id, { addrs })
    await this.rememberAddrs(record)
  }

  async ping (id: string, signal?: AbortSignal): Promise<number> {
    const ms = await this.node.services.ping.ping(peerIdFromString(id), { signal })
    this.rtt.set(id, ms)
    return ms
  }

  /** Tells connected members our (new) display name. */
  announce (): void {
    this.node.services.presence.announce()
  }

  private async rememberAddrs (r: PeerRecord): Promise<void> {
    const addrs = r.addrs.flatMap(a => { try { return [multiaddr(a)] } catch { return [] } })
    if (addrs.length === 0) return
    try {
      await this.node.peerStore.merge(peerIdFromString(r.id), { multiaddrs: addrs })
    } catch (err) {
      this.log.warn('could not add addresses of %s: %s', r.id, err)
    }
  }

  private onConnect (peer: PeerId): void {
    const id = peer.toString()
    this.redial.delete(id)
    const conn = this.node.getConnections(peer)[0]
    // only outbound remote addresses are listening addresses; inbound ones carry an ephemeral port
    const addrs = conn && conn.direction === 'outbound' ? [transportAddr(conn.remoteAddr)] : []
    const { record } = this.book.upsert(id, { addrs, lastSeen: new Date().toISOString() })
    this.log.info('member %s (%s) connected via %s', record.name ?? '?', id, conn?.remoteAddr.toString() ?? '?')
    this.opts.publish('peer.connected', { peer: this.toPeer(record) })
    void this.ping(id).then(() => {
      const r = this.book.get(id)
      if (r && !this.stopped) this.opts.publish('peer.updated', { peer: this.toPeer(r) })
    }, (err) => this.log.debug('first ping of %s failed: %s', id, err))
  }

  private onDisconnect (peer: PeerId): void {
    const id = peer.toString()
    if (this.stopped) return
    const { record } = this.book.upsert(id, { lastSeen: new Date().toISOString() })
    this.rtt.delete(id)
    this.redial.set(id, { next: Date.now() + REDIAL_MIN_MS, delay: REDIAL_MIN_MS })
    this.log.info('member %s (%s) disconnected', record.name ?? '?', id)
    this.opts.publish('peer.disconnected', { peer: this.toPeer(record) })
  }

  private onIdentify (r: IdentifyResult): void {
    if (r.observedAddr) {
      const o = r.observedAddr.toString()
      if (!this.observed.includes(o)) {
        this.observed.unshift(o)
        this.observed.length = Math.min(this.observed.length, MAX_OBSERVED)
        this.publishAddrsIfChanged(true)
      }
    }
    // a peer's loopback addresses only reach it from its own machine; keep them only if that is where it is
    const sameHost = isLoopback(r.connection.remoteAddr.toString())
    const addrs = r.listenAddrs.map(transportAddr).filter(a => !a.includes('/p2p-circuit') && (sameHost || !isLoopback(a)))
    const { record, changed } = this.book.upsert(r.peerId.toString(), { addrs })
    if (changed) this.opts.publish('peer.updated', { peer: this.toPeer(record) })
  }

  /** Members to tell a peer about: the ones with known addresses, most recently seen first. */
  private exchangeList (): Array<{ id: string, addrs: string[] }> {
    return this.book.list()
      .filter(r => r.addrs.length > 0)
      .sort((a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? ''))
      .slice(0, HELLO_MAX_PEERS)
      .map(r => ({ id: r.id, addrs: r.addrs.slice(0, HELLO_MAX_ADDRS) }))
  }

  private onHello (peer: PeerId, hello: Hello, connection: Connection): void {
    const { record, changed } = this.book.upsert(peer.toString(), { name: hello.name })
    if (changed) {
      this.log.info('member %s is now called %s', peer.toString(), hello.name)
      this.opts.publish('peer.updated', { peer: this.toPeer(record) })
    }
    // peer exchange: members this member knows become members we know (and the redial loop meets them)
    const sameHost = isLoopback(connection.remoteAddr.toString())
    let learned = 0
    for (const p of hello.peers ?? []) {
      if (p.id === this.peerId || this.book.has(p.id)) continue
      const addrs = p.addrs.filter(a => { try { multiaddr(a); return sameHost || !isLoopback(a) } catch { return false } })
      if (addrs.length === 0) continue
      const { record: r } = this.book.upsert(p.id, { addrs })
      void this.rememberAddrs(r)
      learned++
    }
    if (learned > 0) {
      this.log.info('learned %d member(s) from %s', learned, hello.name)
      this.redialTick()
    }
    // a member we had not heard from before: tell the others about it (bounded: only on news)
    if (changed && record.lastSeen !== null) this.node.services.presence.announce()
  }

  private onDiscovery (info: PeerInfo): void {
    const id = info.id.toString()
    if (this.node.getConnections(info.id).length > 0 || this.dialing.has(id)) return
    this.log.info('discovered %s at %s', id, info.multiaddrs.map(String).join(' '))
    this.dialing.add(id)
    this.node.dial(info.id).then(
      () => this.dialing.delete(id),
      (err) => { this.dialing.delete(id); this.log.warn('dial of discovered %s failed: %s', id, err) }
    )
  }

  /** Dials members that are offline, each on its own exponential backoff. */
  private redialTick (): void {
    if (this.stopped) return
    const now = Date.now()
    for (const r of this.book.list()) {
      if (r.id === this.peerId || this.dialing.has(r.id) || r.addrs.length === 0) continue
      if (this.node.getConnections(peerIdFromString(r.id)).length > 0) continue
      const st = this.redial.get(r.id) ?? { next: 0, delay: REDIAL_MIN_MS }
      if (st.next > now) continue
      this.dialing.add(r.id)
      this.dialPeer(r.id).then(
        () => { this.dialing.delete(r.id); this.redial.delete(r.id) },
        (err) => {
          this.dialing.delete(r.id)
          const delay = Math.min(st.delay * 2, REDIAL_MAX_MS)
          this.redial.set(r.id, { next: Date.now() + st.delay, delay })
          this.log.debug('redial of %s failed (next in %d ms): %s', r.id, st.delay, err)
        }
      )
    }
  }

  private publishAddrsIfChanged (force = false): void {
    const now = JSON.stringify(this.listenAddrs())
    if (!force && now === this.lastAddrs) return
    this.lastAddrs = now
    this.opts.publish('node.addresses', { listenAddrs: this.listenAddrs(), observedAddrs: this.observedAddrs() })
  }
}
