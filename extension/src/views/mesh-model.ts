// What the views show, kept apart from VS Code so it can be unit-tested: the sidecar's phase, the
// node's status and the mesh members, updated from snapshots (node.status, peers.list) and events.
import type { EventMessage } from '../../../sidecar/src/client/client.ts'
import type { Events, Mesh, NodeStatusResult, Peer } from '../../../sidecar/src/gen/protocol-types.ts'
import type { Translate } from '../l10n.ts'
import { ChangeSignal } from './change-signal.ts'

/** Where the sidecar is in its life, as the views tell it. */
export type SidecarPhase = 'stopped' | 'starting' | 'running' | 'restarting' | 'failed'

/** One row of the Peers view. */
export interface PeerRow {
  id: string
  label: string
  description: string
  /** Markdown. */
  tooltip: string
  online: boolean
  connection: 'direct' | 'relayed' | null
  rttMs: number | null
  addrs: string[]
  /** `meshlink.peer.online` or `meshlink.peer.offline`: menus match on it. */
  contextValue: string
  icon: 'direct' | 'relayed' | 'offline'
}

/** The status bar item's content. */
export interface StatusBarContent {
  text: string
  tooltip: string
  /** Draws the item with the warning/error background. */
  severity: 'normal' | 'warning' | 'error'
}

/** What the mesh map draws: this node in the middle, members around it, our connections as edges. */
export interface MeshGraph {
  mesh: { name: string, personal: boolean } | null
  self: { id: string, label: string } | null
  nodes: Array<{ id: string, label: string, online: boolean }>
  /** From this node to a connected member; label says RTT and direct/relayed. */
  edges: Array<{ from: string, to: string, connection: 'direct' | 'relayed', rttMs: number | null, label: string }>
  phase: SidecarPhase
}


/** A peer id shortened for display: `12D3KooW…AbCdEf`. */
export function shortPeerId (id: string): string {
  return id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id
}

/** "just now", "5 min ago", "3 h ago", "2 days ago". */
export function ago (iso: string, now: number, t: Translate): string {
  const ms = now - Date.parse(iso)
  if (!Number.isFinite(ms) || ms < 60_000) return t('just now')
  const min = Math.floor(ms / 60_000)
  if (min < 60) return t('{0} min ago', min)
  const h = Math.floor(min / 60)
  if (h < 48) return t('{0} h ago', h)
  return t('{0} days ago', Math.floor(h / 24))
}

const mdEscape = (s: string): string => s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&')

function peerLabel (p: Peer): string {
  return p.name ?? shortPeerId(p.id)
}

function connectionText (p: Peer, t: Translate): string {
  const how = p.connection === 'relayed' ? t('relayed') : t('direct')
  return p.rttMs !== null ? t('{0} · {1} ms', how, Math.round(p.rttMs)) : how
}

/** The views' state. Pure: the extension feeds it, views render it. */
export class MeshModel {
  private phaseValue: SidecarPhase = 'stopped'
  private detailValue: string | undefined
  private statusValue: NodeStatusResult | undefined
  private readonly members = new Map<string, Peer>()
  private readonly signal = new ChangeSignal()

  get phase (): SidecarPhase { return this.phaseValue }
  /** Why the sidecar is in this phase (the last error, the restart delay), when it matters. */
  get phaseDetail (): string | undefined { return this.detailValue }
  get status (): NodeStatusResult | undefined { return this.statusValue }
  get mesh (): Mesh | undefined { return this.statusValue?.mesh }
  get peers (): Peer[] { return [...this.members.values()] }
  get onlineCount (): number { return this.peers.filter(p => p.connected).length }

  onDidChange (fn: () => void): { dispose(): void } {
    return this.signal.on(fn)
  }

  private changed (): void {
    this.signal.fire()
  }

  setPhase (phase: SidecarPhase, detail?: string): void {
    if (phase === this.phaseValue && detail === this.detailValue) return
    this.phaseValue = phase
    this.detailValue = detail
    if (phase !== 'running') {
      // stale data would lie about who is online
      this.statusValue = undefined
      this.members.clear()
    }
    this.changed()
  }

  /** Replaces everything with a fresh node.status + peers.list. */
  setSnapshot (status: NodeStatusResult, peers: Peer[]): void {
    this.statusValue = status
    this.members.clear()
    for (const p of peers) this.members.set(p.id, p)
    this.changed()
  }

  /** Replaces the members only (peers.list refresh). */
  setPeers (peers: Peer[]): void {
    this.members.clear()
    for (const p of peers) this.members.set(p.id, p)
    this.changed()
  }

  /**
   * Applies one sidecar event. Returns true when the caller should fetch a fresh snapshot
   * (the mesh changed, so the member list is a different one).
   */
  applyEvent (ev: Pick<EventMessage, 'event' | 'data'>): boolean {
    let refresh = false
    switch (ev.event) {
      case 'peer.connected':
      case 'peer.disconnected':
      case 'peer.updated': {
        const { peer } = ev.data as Events['peer.connected']
        if (peer && typeof peer.id === 'string') this.members.set(peer.id, peer)
        break
      }
      case 'mesh.changed':
        if (this.statusValue) this.statusValue = { ...this.statusValue, mesh: (ev.data as Events['mesh.changed']).mesh }
        this.members.clear()
        refresh = true
        break
      case 'node.name':
        if (this.statusValue) this.statusValue = { ...this.statusValue, name: (ev.data as Events['node.name']).name }
        break
      case 'node.addresses': {
        const d = ev.data as Events['node.addresses']
        if (this.statusValue) this.statusValue = { ...this.statusValue, listenAddrs: d.listenAddrs, observedAddrs: d.observedAddrs }
        break
      }
      default:
        return false // an event from a newer sidecar: nothing to show yet
    }
    if (this.statusValue) this.statusValue = { ...this.statusValue, peersConnected: this.onlineCount }
    this.changed()
    return refresh
  }

  /** The Peers view's rows: online first, then by name. */
  rows (t: Translate, now = Date.now()): PeerRow[] {
    return this.peers
      .sort((a, b) => Number(b.connected) - Number(a.connected) || peerLabel(a).localeCompare(peerLabel(b)) || a.id.localeCompare(b.id))
      .map((p): PeerRow => {
        const online = p.connected
        const description = online
          ? connectionText(p, t)
          : p.lastSeen ? t('offline · seen {0}', ago(p.lastSeen, now, t)) : t('offline · never connected')
        const lines = [
          `**${mdEscape(peerLabel(p))}**`,
          '',
          `${t('Peer id')}: \`${p.id}\``,
          '',
          online ? `${t('Online')}: ${connectionText(p, t)}` : `${t('Offline')}${p.lastSeen ? ` · ${t('last seen {0}', ago(p.lastSeen, now, t))}` : ''}`
        ]
        if (p.addrs.length > 0) {
          lines.push('', `${t('Addresses')}:`, ...p.addrs.map(a => `- \`${a}\``))
        } else {
          lines.push('', t('No known addresses'))
        }
        return {
          id: p.id,
          label: peerLabel(p),
          description,
          tooltip: lines.join('\n'),
          online,
          connection: online ? p.connection : null,
          rttMs: online ? p.rttMs : null,
          addrs: p.addrs,
          contextValue: online ? 'meshlink.peer.online' : 'meshlink.peer.offline',
          icon: !online ? 'offline' : p.connection === 'relayed' ? 'relayed' : 'direct'
        }
      })
  }

  /** The status bar item: mesh name and members online, or why the sidecar is not there. */
  statusBar (t: Translate): StatusBarContent {
    const click = t('Click to open the Peers view.')
    switch (this.phaseValue) {
      case 'running': {
        const mesh = this.mesh
        if (!mesh) return { text: '$(sync~spin) MeshLink', tooltip: t('MeshLink: connecting to the sidecar…'), severity: 'normal' }
        const online = this.onlineCount
        const total = this.members.size
        if (mesh.personal && total === 0) {
          return { text: `$(radio-tower) ${t('MeshLink: no shared mesh')}`, tooltip: `${t('This machine is only in its own personal mesh. Create a mesh or join a teammate\'s.')} ${click}`, severity: 'normal' }
        }
        return {
          text: `$(radio-tower) ${mesh.name} · ${online}/${total}`,
          tooltip: `${t('MeshLink mesh "{0}": {1} of {2} members online.', mesh.name, online, total)} ${click}`,
          severity: 'normal'
        }
      }
      case 'starting':
        return { text: '$(sync~spin) MeshLink', tooltip: t('MeshLink: starting the sidecar…'), severity: 'normal' }
      case 'restarting':
        return { text: `$(sync~spin) ${t('MeshLink: restarting')}`, tooltip: `${t('The MeshLink sidecar stopped and is being restarted.')} ${this.detailValue ?? ''} ${click}`.trim(), severity: 'warning' }
      case 'failed':
      case 'stopped':
        return { text: `$(debug-disconnect) ${t('MeshLink: sidecar down')}`, tooltip: `${t('The MeshLink sidecar is not running.')} ${this.detailValue ?? ''} ${click}`.trim(), severity: 'error' }
    }
  }

  /** The mesh map's graph. */
  graph (t: Translate): MeshGraph {
    const st = this.statusValue
    return {
      mesh: st ? { name: st.mesh.name, personal: st.mesh.personal } : null,
      self: st ? { id: st.peerId, label: t('{0} (you)', st.name) } : null,
      nodes: this.peers.map(p => ({ id: p.id, label: peerLabel(p), online: p.connected })),
      edges: st
        ? this.peers.filter(p => p.connected).map(p => ({
          from: st.peerId,
          to: p.id,
          connection: p.connection === 'relayed' ? 'relayed' as const : 'direct' as const,
          rttMs: p.rttMs,
          label: connectionText(p, t)
        }))
        : [],
      phase: this.phaseValue
    }
  }
}
