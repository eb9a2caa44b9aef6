// The Services view's rows, built from the services model's state: hosts (this machine first),
// their services (port, access, online or not) and this node's forwards under them, with the
// texts a person reads (labels, descriptions, Markdown tooltips, context values for menus).
import type { Forward, ForwardFailedEvent, Peer, Service } from '../../../sidecar/src/gen/protocol-types.ts'
import type { Translate } from '../l10n.ts'
import { ago, shortPeerId } from './mesh-model.ts'

/** What a forward's far end turned out to speak (see services/http-probe.ts); unknown until probed. */
export type ServiceKind = 'http' | 'https' | 'tcp'

export type ForwardFailureCode = ForwardFailedEvent['code']

/** The last connection through a forward that could not be carried. */
export interface ForwardFailure { code: ForwardFailureCode, reason: string, at: number }
/** The last member this node refused on one of its services. */
export interface Refusal { peer: string, reason: string, at: number }

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

/** What the rows are built from (a ServicesModel). */
export interface ServicesState {
  readonly selfId: string | undefined
  readonly all: readonly Service[]
  readonly openForwards: readonly Forward[]
  allows(svc: Service): boolean
  kindOf(forwardId: string): ServiceKind | undefined
  failureOf(forwardId: string): ForwardFailure | undefined
  refusalOf(service: string): Refusal | undefined
}

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

/** 1.2 MB, 340 KB, 12 B. */
export function bytes (n: number, t: Translate): string {
  if (n < 1000) return t('{0} B', n)
  if (n < 1e6) return t('{0} KB', (n / 1e3).toFixed(n < 1e4 ? 1 : 0))
  if (n < 1e9) return t('{0} MB', (n / 1e6).toFixed(n < 1e7 ? 1 : 0))
  return t('{0} GB', (n / 1e9).toFixed(1))
}

/** The tree: this machine first, then online members, then offline ones; services by name. */
export function buildRows (m: ServicesState, t: Translate, dir: Directory, now = Date.now()): HostRow[] {
  const selfId = dir.self?.id ?? m.selfId
  const peers = new Map(dir.peers.map(p => [p.id, p]))
  const nameOf = (id: string): string => (id === selfId ? dir.self?.name : undefined) ?? peers.get(id)?.name ?? shortPeerId(id)

  type Group = { id: string, mine: boolean, hostName: string | null, services: Map<string, Service | undefined> }
  const groups = new Map<string, Group>()
  const group = (id: string, mine: boolean, hostName: string | null): Group => {
    let g = groups.get(id)
    if (!g) groups.set(id, g = { id, mine, hostName, services: new Map() })
    return g
  }
  for (const s of m.all) group(s.host, s.mine, s.hostName).services.set(s.name, s)
  // a forward whose service is not announced (yet, or any more) still shows, under its host
  for (const f of m.openForwards) {
    const g = group(f.peer, false, f.peerName)
    if (!g.services.has(f.service)) g.services.set(f.service, undefined)
  }

  const hosts = [...groups.values()].map((g): HostRow => {
    const label = g.mine ? t('{0} (you)', dir.self?.name ?? g.hostName ?? t('this machine')) : (peers.get(g.id)?.name ?? g.hostName ?? shortPeerId(g.id))
    const svcs = [...g.services.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, s]) => serviceRow(m, t, g.id, name, s, nameOf, now))
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

function serviceRow (m: ServicesState, t: Translate, host: string, name: string, s: Service | undefined, nameOf: (id: string) => string, now: number): ServiceRow {
  const key = serviceKey(host, name)
  const mine = s?.mine ?? false
  const online = s ? s.online : false
  const allowed = s ? m.allows(s) : true
  const access = !s ? t('not announced') : s.allow === null ? t('everyone') : t('{0} allowed', s.allow.length)
  const fwds = m.openForwards.filter(f => f.peer === host && f.service === name).sort((a, b) => a.localPort - b.localPort)
  const forwards = fwds.map(f => forwardRow(m, t, key, f, now))

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
  const refusal = mine ? m.refusalOf(name) : undefined
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

function forwardRow (m: ServicesState, t: Translate, parent: string, f: Forward, now: number): ForwardRow {
  const kind = m.kindOf(f.id)
  const address = forwardAddress(f)
  const url = forwardUrl(f, kind)
  const fail = m.failureOf(f.id)
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
