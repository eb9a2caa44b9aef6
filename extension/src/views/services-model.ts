// What the Services view shows, kept apart from VS Code so it can be unit-tested: the mesh's
// services (this node's and the members') and this node's open forwards, from snapshots
// (services.list, forwards.list) and events (service.*, forward.*, peer.*). Also decides which
// service.updated events are a teammate sharing something new (worth a notification) rather than
// this window catching up with what already existed.
import type { EventMessage } from '../../../sidecar/src/client/client.ts'
import type { Events, Forward, ForwardFailedEvent, Peer, Service } from '../../../sidecar/src/gen/protocol-types.ts'
import type { Translate } from '../l10n.ts'
import { ago, shortPeerId } from './mesh-model.ts'

/** What a forward's far end turned out to speak (see services/http-probe.ts); unknown until probed. */
export type ServiceKind = 'http' | 'https' | 'tcp'

/**
 * A member's services arrive in one announcement right after its connection opens: for this long
 * after a host comes online, a service we had not seen is "already existed", not "just shared".
 * @default 8000
 */
export const CATCH_UP_MS = 8000

export type ForwardFailureCode = ForwardFailedEvent['code']

/** One open forward of this node, under its service. */
export interface ForwardRow {
  kind: 'forward'
  id: string
  /** `127.0.0.1:3000` (the description says "http" once the service is known to speak it). */
  label: string
  description: string
  tooltip: string
  /** host:port to connect to. */
  address: string
  /** The URL a browser opens, for HTTP(S) services. */
  url: string | undefined
  connections: number
  failed: boolean
  contextValue: 'meshlink.forward'
  icon: 'forward' | 'forwardFailed'
  forward: Forward
  /** The service row's key. */
  parent: string
}

/** One service, under its host. */
export interface ServiceRow {
  kind: 'service'
  /** `host/name` */
  key: string
  host: string
  name: string
  port: number
  label: string
  description: string
  /** Markdown. */
  tooltip: string
  mine: boolean
  online: boolean
  /** Whether this node may use it (always true for its own). */
  allowed: boolean
  /** "everyone", "2 allowed". */
  access: string
  /** e.g. `meshlink.service.theirs.online.open`: menus match on it. */
  contextValue: string
  icon: 'mine' | 'online' | 'offline' | 'forbidden'
  forwards: ForwardRow[]
  /** undefined for a forward whose service is not (or no longer) announced. */
  service: Service | undefined
}

/** One host: this machine or a member, with its services. */
export interface HostRow {
  kind: 'host'
  id: string
  label: string
  description: string
  tooltip: string
  mine: boolean
  online: boolean
  contextValue: 'meshlink.host.mine' | 'meshlink.host.online' | 'meshlink.host.offline'
  icon: 'self' | 'online' | 'offline'
  services: ServiceRow[]
}

export type ServicesTreeRow = HostRow | ServiceRow | ForwardRow

/** Who is who, from the mesh model: names for hosts and allow lists, and this node's id. */
export interface Directory {
  self: { id: string, name: string } | undefined
  peers: readonly Peer[]
}

/** What an event meant beyond redrawing. */
export interface ServiceEventOutcome {
  /** Something changed that needs a fresh services.list/forwards.list (the mesh changed). */
  refresh: boolean
  /** A teammate shared a service this node may use: tell the person. */
  announce?: Service
  /** A forward ended for a reason other than this node closing it. */
  closed?: { forward: Forward, reason: string }
  /** A connection through a forward could not be carried. */
  failed?: ForwardFailedEvent
  /** This node refused a member's connection to one of its services. */
  refused?: Events['service.refused']
}

type Listener = () => void

const NONE: ServiceEventOutcome = { refresh: false }

export const serviceKey = (host: string, name: string): string => `${host}/${name}`

const mdEscape = (s: string): string => s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&')

/** host:port for a forward; IPv6 addresses in brackets. */
export function forwardAddress (f: Pick<Forward, 'localAddress' | 'localPort'>): string {
  const a = f.localAddress === '0.0.0.0' ? '127.0.0.1' : f.localAddress === '::' ? '::1' : f.localAddress
  return a.includes(':') ? `[${a}]:${f.localPort}` : `${a}:${f.localPort}`
}

/** The URL a browser opens for a forward of an HTTP(S) service. */
export function forwardUrl (f: Pick<Forward, 'localAddress' | 'localPort'>, kind: ServiceKind | undefined): string | undefined {
  return kind === 'http' || kind === 'https' ? `${kind}://${forwardAddress(f)}/` : undefined
}

/** A forward.failed code as a person reads it. */
export function failureText (code: ForwardFailureCode, t: Translate): string {
  switch (code) {
    case 'FORBIDDEN': return t('the host does not allow this machine')
    case 'NOT_FOUND': return t('the host no longer shares it')
    case 'TARGET_UNREACHABLE': return t('nothing answers on the host\'s port (is the server running?)')
    case 'PEER_UNREACHABLE': return t('the host cannot be reached')
    case 'PROTOCOL_ERROR': return t('the host answered something unexpected')
  }
}

/** The Services view's state. Pure: the extension feeds it, the view renders it. */
export class ServicesModel {
  private readonly services = new Map<string, Service>()
  private readonly forwards = new Map<string, Forward>()
  private readonly failures = new Map<string, { code: ForwardFailureCode, reason: string, at: number }>()
  private readonly refusals = new Map<string, { peer: string, reason: string, at: number }>()
  private readonly kinds = new Map<string, ServiceKind>()
  /** When each member was first seen online in its current session (see CATCH_UP_MS). */
  private readonly onlineSince = new Map<string, number>()
  private readonly listeners = new Set<Listener>()
  private readonly catchUpMs: number
  private selfId: string | undefined
  private loaded = false

  constructor (opts: { catchUpMs?: number } = {}) {
    this.catchUpMs = opts.catchUpMs ?? CATCH_UP_MS
  }

  /** Whether a snapshot arrived since the sidecar (re)attached. */
  get ready (): boolean { return this.loaded }
  get all (): Service[] { return [...this.services.values()] }
  get openForwards (): Forward[] { return [...this.forwards.values()] }
  service (host: string, name: string): Service | undefined { return this.services.get(serviceKey(host, name)) }
  forward (id: string): Forward | undefined { return this.forwards.get(id) }
  kindOf (forwardId: string): ServiceKind | undefined { return this.kinds.get(forwardId) }
  /** The last failed connection through a forward, if any. */
  failureOf (forwardId: string): { code: ForwardFailureCode, reason: string, at: number } | undefined { return this.failures.get(forwardId) }
  forwardsOf (host: string, name: string): Forward[] { return this.openForwards.filter(f => f.peer === host && f.service === name) }

  onDidChange (fn: Listener): { dispose(): void } {
    this.listeners.add(fn)
    return { dispose: () => { this.listeners.delete(fn) } }
  }

  private changed (): void {
    for (const fn of [...this.listeners]) fn()
  }

  /** Forgets everything (the sidecar is not running: stale services would lie). */
  reset (): void {
    const had = this.loaded || this.services.size > 0 || this.forwards.size > 0
    this.services.clear()
    this.forwards.clear()
    this.failures.clear()
    this.refusals.clear()
    this.kinds.clear()
    this.onlineSince.clear()
    this.loaded = false
    if (had) this.changed()
  }

  /**
   * Replaces services and forwards with a fresh services.list + forwards.list. `connected` are the
   * members connected now: their catch-up period starts now unless it already had.
   */
  setSnapshot (s: { services: Service[], forwards: Forward[], selfId: string, connected: string[] }, now = Date.now()): void {
    this.selfId = s.selfId
    this.services.clear()
    for (const svc of s.services) this.services.set(serviceKey(svc.host, svc.name), svc)
    this.forwards.clear()
    for (const f of s.forwards) this.forwards.set(f.id, f)
    for (const id of [...this.failures.keys(), ...this.kinds.keys()]) {
      if (!this.forwards.has(id)) { this.failures.delete(id); this.kinds.delete(id) }
    }
    const online = new Set(s.connected)
    for (const svc of s.services) if (!svc.mine && svc.online) online.add(svc.host)
    for (const id of online) if (!this.onlineSince.has(id)) this.onlineSince.set(id, now)
    for (const id of [...this.onlineSince.keys()]) if (!online.has(id)) this.onlineSince.delete(id)
    this.loaded = true
    this.changed()
  }

  /** Remembers what a forward's service speaks (the Open command probes it). */
  setKind (forwardId: string, kind: ServiceKind): void {
    if (this.kinds.get(forwardId) === kind) return
    this.kinds.set(forwardId, kind)
    this.changed()
  }

  /** Applies one sidecar event; events of other capabilities are ignored. */
  applyEvent (ev: Pick<EventMessage, 'event' | 'data'>, now = Date.now()): ServiceEventOutcome {
    let out: ServiceEventOutcome = NONE
    switch (ev.event) {
      case 'service.updated': {
        const svc = (ev.data as Events['service.updated']).service
        const key = serviceKey(svc.host, svc.name)
        const isNew = !this.services.has(key)
        this.services.set(key, svc)
        if (!svc.mine) {
          const since = this.onlineSince.get(svc.host)
          if (isNew && this.loaded && svc.online && since !== undefined && now - since >= this.catchUpMs && this.allows(svc)) out = { refresh: false, announce: svc }
          if (svc.online && since === undefined) this.onlineSince.set(svc.host, now)
          if (!svc.online) this.onlineSince.delete(svc.host)
        }
        break
      }
      case 'service.removed': {
        const svc = (ev.data as Events['service.removed']).service
        this.services.delete(serviceKey(svc.host, svc.name))
        if (svc.mine) this.refusals.delete(svc.name)
        break
      }
      case 'service.refused': {
        const d = ev.data as Events['service.refused']
        this.refusals.set(d.service, { peer: d.peer, reason: d.reason, at: now })
        out = { refresh: false, refused: d }
        break
      }
      case 'forward.opened':
        this.forwards.set((ev.data as Events['forward.opened']).forward.id, (ev.data as Events['forward.opened']).forward)
        break
      case 'forward.closed': {
        const d = ev.data as Events['forward.closed']
        this.forwards.delete(d.forward.id)
        this.failures.delete(d.forward.id)
        this.kinds.delete(d.forward.id)
        // 'closed' is a person or client closing it; anything else happened to them
        if (d.reason !== 'closed') out = { refresh: false, closed: { forward: d.forward, reason: d.reason } }
        break
      }
      case 'forward.failed': {
        const d = ev.data as Events['forward.failed']
        if (this.forwards.has(d.forward.id)) this.forwards.set(d.forward.id, d.forward)
        this.failures.set(d.forward.id, { code: d.code, reason: d.reason, at: now })
        out = { refresh: false, failed: d }
        break
      }
      case 'peer.connected': {
        const { peer } = ev.data as Events['peer.connected']
        if (!this.onlineSince.has(peer.id)) this.onlineSince.set(peer.id, now)
        break
      }
      case 'peer.disconnected':
        this.onlineSince.delete((ev.data as Events['peer.disconnected']).peer.id)
        break
      case 'peer.updated':
      case 'node.name':
        break // names are read from the Directory when rows are built; just redraw
      case 'mesh.changed':
        // another mesh: its services arrive as its members connect (and the sidecar closes the forwards)
        this.services.clear()
        this.forwards.clear()
        this.failures.clear()
        this.refusals.clear()
        this.kinds.clear()
        this.onlineSince.clear()
        out = { refresh: true }
        break
      default:
        return NONE
    }
    this.changed()
    return out
  }

  /** Whether this node may use a service (its own: always). */
  allows (svc: Service): boolean {
    return svc.mine || svc.allow === null || (this.selfId !== undefined && svc.allow.includes(this.selfId))
  }

  /** The tree: this machine first, then online members, then offline ones; services by name. */
  rows (t: Translate, dir: Directory, now = Date.now()): HostRow[] {
    const selfId = dir.self?.id ?? this.selfId
    const peers = new Map(dir.peers.map(p => [p.id, p]))
    const nameOf = (id: string): string => (id === selfId ? dir.self?.name : undefined) ?? peers.get(id)?.name ?? shortPeerId(id)

    type Group = { id: string, mine: boolean, hostName: string | null, services: Map<string, Service | undefined> }
    const groups = new Map<string, Group>()
    const group = (id: string, mine: boolean, hostName: string | null): Group => {
      let g = groups.get(id)
      if (!g) groups.set(id, g = { id, mine, hostName, services: new Map() })
      return g
    }
    for (const s of this.services.values()) group(s.host, s.mine, s.hostName).services.set(s.name, s)
    // a forward whose service is not announced (yet, or any more) still shows, under its host
    for (const f of this.forwards.values()) {
      const g = group(f.peer, false, f.peerName)
      if (!g.services.has(f.service)) g.services.set(f.service, undefined)
    }

    const hosts = [...groups.values()].map((g): HostRow => {
      const label = g.mine ? t('{0} (you)', dir.self?.name ?? g.hostName ?? t('this machine')) : (peers.get(g.id)?.name ?? g.hostName ?? shortPeerId(g.id))
      const svcs = [...g.services.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, s]) => this.serviceRow(t, g.id, name, s, nameOf, now))
      const peer = peers.get(g.id)
      const online = g.mine || (peer?.connected ?? svcs.some(s => s.online))
      const count = svcs.length === 1 ? t('1 service') : t('{0} services', svcs.length)
      const state = g.mine ? t('this machine') : online ? t('online') : t('offline')
      const lines = [`**${mdEscape(label)}**`, '', `${t('Peer id')}: \`${g.id}\``, '', `${state} · ${count}`]
      // "(you)" already says it is this machine
      if (!g.mine && !online && peer?.lastSeen) lines.push('', t('last seen {0}', ago(peer.lastSeen, now, t)))
      return {
        kind: 'host',
        id: g.id,
        label,
        description: g.mine ? count : `${state} · ${count}`,
        tooltip: lines.join('\n'),
        mine: g.mine,
        online,
        contextValue: g.mine ? 'meshlink.host.mine' : online ? 'meshlink.host.online' : 'meshlink.host.offline',
        icon: g.mine ? 'self' : online ? 'online' : 'offline',
        services: svcs
      }
    })
    return hosts.sort((a, b) => Number(b.mine) - Number(a.mine) || Number(b.online) - Number(a.online) || a.label.localeCompare(b.label) || a.id.localeCompare(b.id))
  }

  private serviceRow (t: Translate, host: string, name: string, s: Service | undefined, nameOf: (id: string) => string, now: number): ServiceRow {
    const key = serviceKey(host, name)
    const mine = s?.mine ?? false
    const online = s ? s.online : false
    const allowed = s ? this.allows(s) : true
    const access = !s ? t('not announced') : s.allow === null ? t('everyone') : t('{0} allowed', s.allow.length)
    const fwds = this.openForwards.filter(f => f.peer === host && f.service === name).sort((a, b) => a.localPort - b.localPort)
    const forwards = fwds.map(f => this.forwardRow(t, key, f, now))

    // a service named after its port (the default) does not repeat it
    const parts = [s && name !== String(s.port) ? `:${s.port}` : '', access]
    if (s && !mine && !allowed) parts[1] = t('not allowed for you')
    if (s && !mine && !online) parts.push(t('offline'))
    const description = parts.filter(Boolean).join(' · ')

    const lines = [`**${mdEscape(name)}** ${t('on {0}', mdEscape(nameOf(host)))}`, '']
    if (s) {
      lines.push(`${t('Port')}: ${s.port}${s.target && s.target !== `127.0.0.1:${s.port}` ? ` (${t('carried to {0}', s.target)})` : ''}`)
      lines.push('', `${t('Access')}: ${s.allow === null ? t('every member of the mesh') : s.allow.map(id => mdEscape(nameOf(id))).join(', ')}`)
      if (!mine) lines.push('', online ? t('The host is online.') : t('The host is offline.'))
      if (!mine && !allowed) lines.push('', t('The host does not allow this machine to use it.'))
    } else {
      lines.push(t('The host does not announce this service (any more); the forward stays open until closed.'))
    }
    for (const f of forwards) lines.push('', t('Open here at {0} ({1})', f.address, f.description))
    const refusal = mine ? this.refusals.get(name) : undefined
    if (refusal) lines.push('', t('Last refused: {0}, {1} ({2})', nameOf(refusal.peer), refusal.reason, ago(new Date(refusal.at).toISOString(), now, t)))

    const state = mine ? 'mine' : !s ? 'offline' : !allowed ? 'forbidden' : online ? 'online' : 'offline'
    return {
      kind: 'service',
      key,
      host,
      name,
      port: s?.port ?? 0,
      label: name,
      description,
      tooltip: lines.join('\n'),
      mine,
      online,
      allowed,
      access,
      contextValue: `meshlink.service.${mine ? 'mine' : `theirs.${state}`}${forwards.length > 0 ? '.open' : ''}`,
      icon: state,
      forwards,
      service: s
    }
  }

  private forwardRow (t: Translate, parent: string, f: Forward, now: number): ForwardRow {
    const kind = this.kinds.get(f.id)
    const address = forwardAddress(f)
    const url = forwardUrl(f, kind)
    const fail = this.failures.get(f.id)
    const conns = f.connections === 1 ? t('1 connection') : t('{0} connections', f.connections)
    const description = [kind === 'http' || kind === 'https' ? kind : '', conns, fail ? t('last failed: {0}', failureText(fail.code, t)) : ''].filter(Boolean).join(' · ')
    const lines = [
      `**${mdEscape(url ?? address)}**`,
      '',
      t('Connections to {0} are carried to {1} on {2}.', address, f.service, f.peerName ?? shortPeerId(f.peer)),
      '',
      `${t('Open now')}: ${f.connections} · ${t('total')}: ${f.totalConnections}`,
      '',
      `${t('Received')}: ${bytes(f.bytesIn, t)} · ${t('sent')}: ${bytes(f.bytesOut, t)}`
    ]
    if (f.localAddress !== '127.0.0.1' && f.localAddress !== '::1') lines.push('', t('Listening on {0}: reachable from other machines.', f.localAddress))
    if (fail) lines.push('', t('Last failed connection ({0}): {1}', ago(new Date(fail.at).toISOString(), now, t), fail.reason))
    return {
      kind: 'forward',
      id: f.id,
      label: address,
      description,
      tooltip: lines.join('\n'),
      address,
      url,
      connections: f.connections,
      failed: fail !== undefined,
      contextValue: 'meshlink.forward',
      icon: fail ? 'forwardFailed' : 'forward',
      forward: f,
      parent
    }
  }
}

/** 1.2 MB, 340 KB, 12 B. */
export function bytes (n: number, t: Translate): string {
  if (n < 1000) return t('{0} B', n)
  if (n < 1e6) return t('{0} KB', (n / 1e3).toFixed(n < 1e4 ? 1 : 0))
  if (n < 1e9) return t('{0} MB', (n / 1e6).toFixed(n < 1e7 ? 1 : 0))
  return t('{0} GB', (n / 1e9).toFixed(1))
}
