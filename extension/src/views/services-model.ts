// What the Services view shows, kept apart from VS Code so it can be unit-tested: the mesh's
// services (this node's and the members') and this node's open forwards, from snapshots
// (services.list, forwards.list) and events (service.*, forward.*, peer.*). Also decides which
// service.updated events are a teammate sharing something new (worth a notification) rather than
// this window catching up with what already existed.
import type { EventMessage } from '../../../sidecar/src/client/client.ts'
import type { Events, Forward, ForwardFailedEvent, Service } from '../../../sidecar/src/gen/protocol-types.ts'
import type { Translate } from '../l10n.ts'
import { buildRows, serviceKey, type Directory, type ForwardFailure, type HostRow, type Refusal, type ServiceKind, type ServicesState } from './services-rows.ts'
import { ChangeSignal } from './change-signal.ts'

/**
 * A member's services arrive in one announcement right after its connection opens: for this long
 * after a host comes online, a service we had not seen is "already existed", not "just shared".
 * @default 8000
 */
export const CATCH_UP_MS = 8000

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


const NONE: ServiceEventOutcome = { refresh: false }

/** The Services view's state. Pure: the extension feeds it, the view renders it. */
export class ServicesModel implements ServicesState {
  private readonly services = new Map<string, Service>()
  private readonly forwards = new Map<string, Forward>()
  private readonly failures = new Map<string, ForwardFailure>()
  private readonly refusals = new Map<string, Refusal>()
  private readonly kinds = new Map<string, ServiceKind>()
  /** When each member was first seen online in its current session (see CATCH_UP_MS). */
  private readonly onlineSince = new Map<string, number>()
  private readonly signal = new ChangeSignal()
  private readonly catchUpMs: number
  private self: string | undefined
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
  failureOf (forwardId: string): ForwardFailure | undefined { return this.failures.get(forwardId) }
  /** The last refusal of a member on one of this node's services, if any. */
  refusalOf (service: string): Refusal | undefined { return this.refusals.get(service) }
  /** This node's peer id (from the last snapshot). */
  get selfId (): string | undefined { return this.self }
  forwardsOf (host: string, name: string): Forward[] { return this.openForwards.filter(f => f.peer === host && f.service === name) }

  onDidChange (fn: () => void): { dispose(): void } {
    return this.signal.on(fn)
  }

  private changed (): void {
    this.signal.fire()
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
    this.self = s.selfId
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
    return svc.mine || svc.allow === null || (this.self !== undefined && svc.allow.includes(this.self))
  }

  /** The tree: this machine first, then online members, then offline ones; services by name. */
  rows (t: Translate, dir: Directory, now = Date.now()): HostRow[] {
    return buildRows(this, t, dir, now)
  }
}
