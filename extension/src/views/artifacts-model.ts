// What the Artifacts view shows, kept apart from VS Code so it can be unit-tested: the artifacts
// this node holds and those connected members announce, and this run's publishes and fetches,
// from snapshots (artifacts.list, transfers.list) and events (artifact.*, transfer.*). Commands
// follow a transfer through it (`transfer()`, `finished()`), whether its news came by event or by
// polling.
import type { EventMessage } from '../../../sidecar/src/client/client.ts'
import type { Artifact, Events, Peer, Transfer } from '../../../sidecar/src/gen/protocol-types.ts'
import type { Translate } from '../l10n.ts'
import { buildRows, type ArtifactGroupRow, type ArtifactsState } from './artifacts-rows.ts'
import { ChangeSignal } from './change-signal.ts'

/** What an event meant beyond redrawing. */
export interface ArtifactEventOutcome {
  /** Another mesh: fetch artifacts.list again. */
  refresh: boolean
  /** A transfer ended (done, failed or cancelled). */
  ended?: Transfer
}


const NONE: ArtifactEventOutcome = { refresh: false }
/** Finished transfers kept (the sidecar keeps 100). */
const KEEP_FINISHED = 100

/** Whether `b` is news about the same transfer as `a` (events and snapshots may arrive out of order). */
function newer (a: Transfer | undefined, b: Transfer): boolean {
  if (!a) return true
  if (a.state !== 'running') return false // an ended transfer never runs again
  if (b.state !== 'running') return true
  return b.bytesDone >= a.bytesDone
}

/** The Artifacts view's state. Pure: the extension feeds it, the view renders it. */
export class ArtifactsModel implements ArtifactsState {
  private readonly artifacts = new Map<string, Artifact>()
  private readonly transfers = new Map<string, Transfer>()
  /** transfer id → the artifact its transfer.done carried. */
  private readonly results = new Map<string, Artifact>()
  private readonly signal = new ChangeSignal()
  private loaded = false
  private gen = 0

  /** Whether a snapshot arrived since the sidecar (re)attached. */
  get ready (): boolean { return this.loaded }
  /** Changes when the sidecar goes away: transfers followed before then will not end by event. */
  get generation (): number { return this.gen }
  get all (): Artifact[] { return [...this.artifacts.values()] }
  get running (): Transfer[] { return [...this.transfers.values()].filter(tr => tr.state === 'running') }
  artifact (id: string): Artifact | undefined { return this.artifacts.get(id) }
  transfer (id: string): Transfer | undefined { return this.transfers.get(id) }
  /** The artifact a finished transfer produced (from transfer.done, else the list). */
  result (transferId: string): Artifact | undefined {
    const tr = this.transfers.get(transferId)
    return this.results.get(transferId) ?? (tr?.artifact ? this.artifacts.get(tr.artifact) : undefined)
  }

  /** An artifact by id, unique id prefix or tag (the newest with it), as the sidecar resolves them. */
  find (ref: string): Artifact | undefined {
    const exact = this.artifacts.get(ref)
    if (exact) return exact
    const tagged = this.all.filter(a => a.tag === ref).sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
    if (tagged.length > 0) return tagged[0]
    const byPrefix = ref.length >= 8 ? this.all.filter(a => a.id.startsWith(ref)) : []
    return byPrefix.length === 1 ? byPrefix[0] : undefined
  }

  onDidChange (fn: () => void): { dispose(): void } {
    return this.signal.on(fn)
  }

  private changed (): void {
    this.signal.fire()
  }

  /** Forgets everything (the sidecar is not running: stale artifacts and transfers would lie). */
  reset (): void {
    const had = this.loaded || this.artifacts.size > 0 || this.transfers.size > 0
    this.artifacts.clear()
    this.transfers.clear()
    this.results.clear()
    this.loaded = false
    this.gen++
    if (had) this.changed()
  }

  /** Replaces artifacts with a fresh artifacts.list; merges transfers.list (events may be newer). */
  setSnapshot (s: { artifacts: Artifact[], transfers?: Transfer[] }): void {
    this.artifacts.clear()
    for (const a of s.artifacts) this.artifacts.set(a.id, a)
    for (const tr of s.transfers ?? []) this.putTransfer(tr)
    this.loaded = true
    this.changed()
  }

  /** Records a transfer a method answered with (artifacts.publish, artifacts.fetch, transfers.cancel). */
  track (tr: Transfer): void {
    if (this.putTransfer(tr)) this.changed()
  }

  private putTransfer (tr: Transfer): boolean {
    if (!newer(this.transfers.get(tr.id), tr)) return false
    this.transfers.set(tr.id, tr)
    if (this.transfers.size > KEEP_FINISHED + 20) {
      const ended = [...this.transfers.values()].filter(x => x.state !== 'running')
      for (const x of ended.slice(0, ended.length - KEEP_FINISHED)) { this.transfers.delete(x.id); this.results.delete(x.id) }
    }
    return true
  }

  /** Applies one sidecar event; events of other capabilities are ignored. */
  applyEvent (ev: Pick<EventMessage, 'event' | 'data'>): ArtifactEventOutcome {
    let out: ArtifactEventOutcome = NONE
    switch (ev.event) {
      case 'artifact.updated': {
        const a = (ev.data as Events['artifact.updated']).artifact
        this.artifacts.set(a.id, a)
        break
      }
      case 'artifact.removed':
        this.artifacts.delete((ev.data as Events['artifact.removed']).id)
        break
      case 'transfer.progress':
        if (!this.putTransfer((ev.data as Events['transfer.progress']).transfer)) return NONE
        break
      case 'transfer.done': {
        const d = ev.data as Events['transfer.done']
        this.artifacts.set(d.artifact.id, d.artifact)
        this.results.set(d.transfer.id, d.artifact)
        this.putTransfer(d.transfer)
        out = { refresh: false, ended: d.transfer }
        break
      }
      case 'transfer.failed': {
        const tr = (ev.data as Events['transfer.failed']).transfer
        this.putTransfer(tr)
        out = { refresh: false, ended: tr }
        break
      }
      case 'peer.updated':
      case 'node.name':
        break // holders' names are read from the peers when rows are built; just redraw
      case 'mesh.changed':
        // another mesh: its members announce their artifacts as they connect
        for (const a of [...this.artifacts.values()]) if (!a.local) this.artifacts.delete(a.id)
        out = { refresh: true }
        break
      default:
        return NONE
    }
    this.changed()
    return out
  }

  /** The tree: "Published here", then "In the mesh"; newest first. */
  rows (t: Translate, peers: readonly Peer[] = [], now = Date.now()): ArtifactGroupRow[] {
    return buildRows(this, t, peers, now)
  }
}
