import { lstat } from 'node:fs/promises'
import { isAbsolute, join, resolve as resolvePath } from 'node:path'
import type { Artifact, StoreConfigureParams, StoreStatus, Transfer } from '../gen/protocol-types.ts'
import { ApiError } from '../api/errors.ts'
import type { MeshNode, Publish } from '../mesh/mesh-node.ts'
import type { Logger } from '../log/logger.ts'
import { ArtifactStore, type ArtifactRecord, type VerifyReport } from '../store/artifact-store.ts'
import { publishTree } from '../store/publish.ts'
import { OutputTree, checkOutput, OutputExistsError } from '../store/output-tree.ts'
import { uniqueChunks } from '../store/manifest.ts'
import { NoSpaceError, UnsafeManifestError } from '../store/errors.ts'
import { ArtifactAnnouncer } from './announce.ts'
import { ChunkServer } from './chunk-server.ts'
import { NoHoldersError, type Holder } from './fetcher.ts'
import { fetchIntoTree } from './fetch-into-tree.ts'
import { fetchManifest } from './fetch-manifest.ts'
import { RateLimiter } from './rate-limit.ts'
import { PendingFetches, PENDING_FETCH_MAX_AGE_MS, type PendingFetch } from './pending-fetches.ts'
import { TransferState, type TransferErrorCode } from './transfer.ts'
import type { AnnouncedArtifact } from './wire.ts'
import { CHUNKS_PROTOCOL, MAX_ANNOUNCED_ARTIFACTS, MAX_CHUNK_STREAMS } from './constants.ts'

const KEEP_TRANSFERS = 100
/** How long stopping waits for running transfers to clean up after their abort. */
const TASK_STOP_MS = 5_000

export interface ArtifactSyncOptions {
  storeDir: string
  capBytes: number
  maxUploadBytesPerSec: number | null
  publish: Publish
  log: Logger
}

/**
 * Artifact sync for the current mesh node: the local store, announcements to and from members,
 * serving chunks, and publishes and fetches as transfers (answered at once, followed by events).
 */
export class ArtifactSync {
  readonly store: ArtifactStore
  private readonly publishEvent: Publish
  private readonly log: Logger
  private mesh: MeshNode | undefined
  private announcer: ArtifactAnnouncer | undefined
  private readonly server: ChunkServer
  private readonly upload: RateLimiter
  private readonly remote = new Map<string, AnnouncedArtifact[]>()
  private readonly transfers = new Map<string, TransferState>()
  /** Artifacts a running transfer works on (never evicted meanwhile). */
  private readonly busy = new Map<string, number>()
  private readonly onDisconnect = (e: CustomEvent): void => this.forgetPeer(String(e.detail))
  /** Fetches that were running when the sidecar last stopped, started again once a holder is seen. */
  private readonly pending: PendingFetches
  /** The sidecar is stopping: running fetches stay pending for its next start. */
  private stopping = false
  /** The publishes and fetches running now (detach waits for them to clean up). */
  private readonly tasks = new Set<Promise<void>>()
  /** Output directories of pending fetches being started right now. */
  private readonly resuming = new Set<string>()

  constructor (opts: ArtifactSyncOptions) {
    this.publishEvent = opts.publish
    this.log = opts.log
    this.store = new ArtifactStore(opts.storeDir, opts.capBytes, opts.log.scope('store'))
    this.pending = new PendingFetches(join(opts.storeDir, 'fetches.json'), opts.log.scope('store'))
    this.upload = new RateLimiter(opts.maxUploadBytesPerSec)
    this.server = new ChunkServer({ store: this.store, upload: this.upload, onServed: () => {}, log: opts.log.scope('serve') })
  }

  async attach (mesh: MeshNode): Promise<void> {
    this.mesh = mesh
    const node = mesh.libp2p
    await node.handle(CHUNKS_PROTOCOL, (stream, conn) => this.server.handle(stream, conn), { maxInboundStreams: MAX_CHUNK_STREAMS, maxOutboundStreams: MAX_CHUNK_STREAMS })
    this.announcer = new ArtifactAnnouncer({ node, mine: () => this.announced(), onAnnouncement: (peer, list) => this.onAnnouncement(peer, list), log: this.log.scope('announce') })
    await this.announcer.start()
    node.addEventListener('peer:disconnect', this.onDisconnect)
    this.resumePending()
  }

  /**
   * `stopping`: the sidecar is shutting down, and running fetches start again on its next start;
   * otherwise the node is leaving the mesh, and they are dropped with it.
   */
  async detach (opts: { stopping?: boolean } = {}): Promise<void> {
    const node = this.mesh?.libp2p
    this.stopping = opts.stopping === true
    if (!this.stopping) this.pending.clear()
    for (const t of this.transfers.values()) if (t.state === 'running') t.controller.abort(new Error(this.stopping ? 'the sidecar is stopping (the fetch goes on when it starts again)' : 'the node left the mesh'))
    // let them remove their temp trees (bounded: a hung disk must not hold the shutdown)
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.allSettled(this.tasks), new Promise<void>(resolve => { timer = setTimeout(resolve, TASK_STOP_MS) })])
    clearTimeout(timer)
    if (node) {
      node.removeEventListener('peer:disconnect', this.onDisconnect)
      await this.announcer?.stop()
      await node.unhandle(CHUNKS_PROTOCOL).catch(() => {})
    }
    this.server.closeAll()
    this.remote.clear()
    this.mesh = undefined
  }

  private need (): MeshNode {
    if (!this.mesh) throw new ApiError('NOT_READY', 'the mesh node is not running')
    return this.mesh
  }

  // ---- what members hold

  private announced (): AnnouncedArtifact[] {
    return this.store.list().slice(0, MAX_ANNOUNCED_ARTIFACTS).map(r => ({ id: r.id, tag: r.tag, size: r.size, files: r.files, createdAt: r.createdAt, complete: r.complete }))
  }

  private onAnnouncement (peer: string, list: AnnouncedArtifact[]): void {
    const before = new Map((this.remote.get(peer) ?? []).map(a => [a.id, a]))
    this.remote.set(peer, list)
    for (const a of list) {
      const old = before.get(a.id)
      before.delete(a.id)
      if (!old || old.complete !== a.complete || old.tag !== a.tag) this.publishEvent('artifact.updated', { artifact: this.artifact(a.id) })
    }
    for (const gone of before.keys()) this.gone(gone)
    if (list.length > 0) this.resumePending()
  }

  /** Starts the pending fetches whose artifact a connected member now holds; forgets expired ones. */
  private resumePending (): void {
    if (this.mesh === undefined || this.stopping) return
    for (const f of this.pending.list()) {
      if (this.resuming.has(f.out) || this.fetchInto(f.out) !== undefined) continue
      if (Date.now() - Date.parse(f.since) > PENDING_FETCH_MAX_AGE_MS) {
        this.log.warn('giving up the interrupted fetch of %s into %s: started more than %d h ago', f.artifact, f.out, PENDING_FETCH_MAX_AGE_MS / 3_600_000)
        this.pending.remove(f.out)
        continue
      }
      if (this.holders(f.artifact).length === 0 && !this.store.get(f.artifact)?.complete) continue
      this.log.info('resuming the fetch of %s into %s (interrupted by the sidecar stopping or its holders leaving)', f.artifact, f.out)
      this.resuming.add(f.out)
      this.fetch({ artifact: f.artifact, out: f.out, pin: f.pin, ...(f.maxBytesPerSec !== null ? { maxBytesPerSec: f.maxBytesPerSec } : {}) }, f).catch((err: Error) => {
        // e.g. the output directory was filled meanwhile: the fetch cannot go on there
        this.log.warn('cannot resume the fetch of %s into %s: %s', f.artifact, f.out, err.message)
        this.pending.remove(f.out)
      }).finally(() => this.resuming.delete(f.out))
    }
  }

  private forgetPeer (peer: string): void {
    const list = this.remote.get(peer)
    if (!list) return
    this.remote.delete(peer)
    for (const a of list) this.gone(a.id)
  }

  private gone (id: string): void {
    if (this.store.get(id) || this.holders(id).length > 0) this.publishEvent('artifact.updated', { artifact: this.artifact(id) })
    else this.publishEvent('artifact.removed', { id })
  }

  private holders (id: string): Holder[] {
    const m = this.mesh
    if (!m) return []
    const out: Holder[] = []
    for (const [peer, list] of this.remote) {
      const a = list.find(x => x.id === id)
      const p = m.peer(peer)
      if (a && p?.connected) out.push({ peer, name: p.name, complete: a.complete, rttMs: p.rttMs })
    }
    return out
  }

  private artifact (id: string): Artifact {
    const local = this.store.get(id)
    const ann = [...this.remote.values()].flatMap(l => l.filter(a => a.id === id))
    const any = local ?? ann[0]
    return {
      id,
      tag: local?.tag ?? ann.find(a => a.tag !== null)?.tag ?? null,
      size: any?.size ?? 0,
      files: any?.files ?? 0,
      createdAt: local?.createdAt ?? ann.map(a => a.createdAt).sort()[0] ?? new Date(0).toISOString(),
      local: local !== undefined,
      complete: local?.complete ?? false,
      pinned: local?.pinned ?? false,
      mine: local?.published ?? false,
      holders: this.holders(id).map(h => ({ peer: h.peer, name: h.name, complete: h.complete }))
    }
  }

  list (): Artifact[] {
    const ids = new Set([...this.store.list().map(r => r.id), ...[...this.remote.values()].flatMap(l => l.map(a => a.id))])
    return [...ids].map(id => this.artifact(id)).sort((a, b) => b.createdAt.localeCompare(a.createdAt))
  }

  /** Resolves an id, unique prefix or tag (the newest artifact with it, here or at a member). */
  resolve (ref: string): string {
    const all = this.list()
    const exact = all.find(a => a.id === ref)
    if (exact) return exact.id
    if (/^[0-9a-f]{8,63}$/.test(ref)) {
      const hits = all.filter(a => a.id.startsWith(ref))
      if (hits.length === 1) return hits[0].id
      if (hits.length > 1) throw new ApiError('INVALID_PARAMS', `"${ref}" is the prefix of ${hits.length} artifacts; give more digits`, { path: '/params/artifact' })
    }
    const tagged = all.filter(a => a.tag === ref)
    if (tagged.length > 0) return tagged[0].id
    throw new ApiError('NOT_FOUND', `no artifact "${ref}" here or at a connected member`, { path: '/params/artifact' })
  }

  async remove (ref: string): Promise<Artifact> {
    const id = this.resolve(ref)
    if (!this.store.get(id)) throw new ApiError('NOT_FOUND', `artifact ${id} is not in this node's store`, { path: '/params/artifact' })
    if (this.busy.has(id)) throw new ApiError('CONFLICT', `artifact ${id} is being published or fetched`)
    await this.store.remove(id)
    this.announcer?.changed()
    const a = this.artifact(id)
    this.gone(id)
    return a
  }

  /** Pins (never evicted) or unpins a local artifact. */
  async pin (ref: string, pinned: boolean): Promise<Artifact> {
    const id = this.resolve(ref)
    if (!this.store.get(id)) throw new ApiError('NOT_FOUND', `artifact ${id} is not in this node's store`, { path: '/params/artifact' })
    this.store.setPinned(id, pinned)
    const a = this.artifact(id)
    this.publishEvent('artifact.updated', { artifact: a })
    // unpinning may leave the store over its cap
    if (!pinned) await this.evict().catch((err) => this.log.warn('eviction: %s', err))
    return a
  }

  // ---- transfers

  private startTransfer (kind: Transfer['kind'], path: string, tag: string | null): TransferState {
    const t = new TransferState(kind, path, tag, (x) => this.publishEvent('transfer.progress', { transfer: x.toJSON() }))
    this.transfers.set(t.id, t)
    const old = [...this.transfers.values()].filter(x => x.state !== 'running')
    for (const x of old.slice(0, Math.max(0, this.transfers.size - KEEP_TRANSFERS))) this.transfers.delete(x.id)
    return t
  }

  /** The running fetch that writes `out`, if any. */
  private fetchInto (out: string): TransferState | undefined {
    for (const t of this.transfers.values()) if (t.state === 'running' && t.kind === 'fetch' && t.path === out) return t
    return undefined
  }

  private track (task: Promise<void>): void {
    this.tasks.add(task)
    void task.finally(() => this.tasks.delete(task))
  }

  private hold (id: string): void { this.busy.set(id, (this.busy.get(id) ?? 0) + 1) }
  private release (id: string | null): void {
    if (id === null) return
    const n = (this.busy.get(id) ?? 1) - 1
    if (n <= 0) this.busy.delete(id); else this.busy.set(id, n)
  }

  private failTransfer (t: TransferState, err: unknown): void {
    const e = err as Error & { code?: string }
    let code: TransferErrorCode = 'INTERNAL'
    if (t.signal.aborted) code = 'CANCELLED'
    else if (err instanceof NoSpaceError || e?.code === 'ENOSPC') code = 'NO_SPACE'
    else if (err instanceof UnsafeManifestError) code = 'UNSAFE_MANIFEST'
    else if (err instanceof NoHoldersError) code = 'PEER_UNREACHABLE'
    else if (err instanceof OutputExistsError) code = 'CONFLICT'
    else if (e?.code === 'ENOENT' || e?.code === 'EACCES' || e?.code === 'EIO' || e?.code === 'EROFS' || e?.code === 'ENOTDIR') code = 'IO_ERROR'
    const message = code === 'CANCELLED' ? `cancelled: ${e?.message ?? 'by the user'}` : e?.message ?? String(err)
    t.finish(code === 'CANCELLED' ? 'cancelled' : 'failed', { code, message })
    if (code === 'INTERNAL') this.log.error('%s %s failed: %s', t.kind, t.id, e?.stack ?? err)
    else this.log.warn('%s %s failed: %s', t.kind, t.id, message)
    this.publishEvent('transfer.failed', { transfer: t.toJSON() })
  }

  private async evict (): Promise<void> {
    const gone = await this.store.evict(new Set(this.busy.keys()))
    if (gone.length) { this.announcer?.changed(); for (const id of gone) this.gone(id) }
  }

  async publish (p: { path: string, tag?: string, pin?: boolean }): Promise<Transfer> {
    this.need()
    if (!isAbsolute(p.path)) throw new ApiError('INVALID_PARAMS', `path "${p.path}" is not absolute`, { path: '/params/path' })
    const path = resolvePath(p.path)
    const st = await lstat(path).catch(() => undefined)
    if (!st) throw new ApiError('NOT_FOUND', `${path} does not exist`, { path: '/params/path' })
    if (!st.isDirectory() && !st.isFile()) throw new ApiError('INVALID_PARAMS', `${path} is neither a directory nor a regular file`, { path: '/params/path' })
    const t = this.startTransfer('publish', path, p.tag ?? null)
    this.track((async () => {
      try {
        const r = await publishTree(path, this.store.chunks, (pr) => {
          t.bytesTotal = pr.bytesTotal; t.bytesDone = pr.bytesDone; t.chunksDone = pr.chunksDone; t.chunksTotal = pr.chunksDone
          t.progressed()
        }, t.signal)
        t.artifact = r.id
        this.hold(r.id)
        const rec = await this.store.add(r.bytes, r.id, { tag: p.tag ?? null, pinned: p.pin ?? true, published: true, createdAt: new Date().toISOString() })
        t.bytesTotal = rec.size; t.bytesDone = rec.size; t.chunksTotal = rec.chunks; t.chunksDone = rec.chunks
        if (r.skipped.length) this.log.warn('publish %s skipped %d special file(s): %s', path, r.skipped.length, r.skipped.slice(0, 5).join(', '))
        this.log.info('published %s as %s%s (%d bytes, %d new chunks)', path, r.id, p.tag ? ` (${p.tag})` : '', rec.size, r.progress.chunksNew)
        t.finish('done')
        this.announcer?.changed()
        const a = this.artifact(r.id)
        this.publishEvent('artifact.updated', { artifact: a })
        this.publishEvent('transfer.done', { transfer: t.toJSON(), artifact: a })
        await this.evict()
      } catch (err) {
        this.failTransfer(t, err)
      } finally {
        this.release(t.artifact)
      }
    })())
    return t.toJSON()
  }

  /** `resumed`: the pending record this fetch continues (its start time is kept). */
  async fetch (p: { artifact: string, out: string, pin?: boolean, maxBytesPerSec?: number }, resumed?: PendingFetch): Promise<Transfer> {
    const mesh = this.need()
    if (!isAbsolute(p.out)) throw new ApiError('INVALID_PARAMS', `out "${p.out}" is not absolute`, { path: '/params/out' })
    const out = resolvePath(p.out)
    const id = this.resolve(p.artifact)
    try { await checkOutput(out) } catch (err) { throw new ApiError('CONFLICT', (err as Error).message, { path: '/params/out' }) }
    const writing = this.fetchInto(out)
    if (writing) throw new ApiError('CONFLICT', `fetch ${writing.id} is already writing ${out}`, { path: '/params/out' })
    const known = this.artifact(id)
    if (!known.complete && known.holders.length === 0) throw new ApiError('PEER_UNREACHABLE', `no connected member holds artifact ${id}`)
    const t = this.startTransfer('fetch', out, known.tag)
    t.artifact = id
    this.hold(id)
    this.pending.add({ artifact: id, out, pin: p.pin ?? false, maxBytesPerSec: p.maxBytesPerSec ?? null, since: resumed?.since ?? new Date().toISOString() })
    let waitsForHolders = false
    this.track((async () => {
      try {
        if (!this.store.get(id)) {
          const bytes = await fetchManifest(mesh.libp2p, id, this.holders(id), t.signal, this.log)
          await this.store.add(bytes, id, { tag: known.tag, pinned: p.pin ?? false, published: false, createdAt: known.createdAt })
        } else if (p.pin) this.store.setPinned(id, true)
        const manifest = this.store.manifest(id)
        const chunks = uniqueChunks(manifest)
        t.chunksTotal = chunks.length
        t.bytesTotal = chunks.reduce((n, c) => n + c[1], 0)
        const have = chunks.filter(([h]) => this.store.chunks.has(h))
        t.chunksDone = have.length
        t.bytesDone = have.reduce((n, c) => n + c[1], 0)
        this.announcer?.changed()
        const tree = await OutputTree.create(manifest, out, t.signal, this.store.chunks)
        try {
          await fetchIntoTree(tree, this.store, {
            node: mesh.libp2p,
            store: this.store,
            transfer: t,
            id,
            holders: () => this.holders(id),
            download: new RateLimiter(p.maxBytesPerSec ?? null),
            onChunk: () => this.announcer?.changed(),
            log: this.log.scope('fetch')
          })
          this.store.markComplete(id)
          this.announcer?.changed()
          await tree.commit()
        } catch (err) {
          await tree.discard()
          throw err
        }
        this.log.info('fetched %s into %s (%d bytes from members)', id, out, t.bytesFromPeers)
        t.finish('done')
        const a = this.artifact(id)
        this.publishEvent('artifact.updated', { artifact: a })
        this.publishEvent('transfer.done', { transfer: t.toJSON(), artifact: a })
      } catch (err) {
        // every holder gone: it starts again when one is back (transfers.cancel on it stops that)
        waitsForHolders = err instanceof NoHoldersError && !t.signal.aborted
        this.failTransfer(t, waitsForHolders ? new NoHoldersError(`${(err as Error).message}; it goes on when a member that holds it connects again`) : err)
      } finally {
        if (!this.stopping && !waitsForHolders) this.pending.remove(out)
        this.release(id)
        await this.evict().catch((err) => this.log.warn('eviction: %s', err))
      }
    })())
    return t.toJSON()
  }

  listTransfers (): Transfer[] {
    return [...this.transfers.values()].reverse().map(t => t.toJSON())
  }

  /** Cancels a running transfer; for a fetch that failed waiting for holders, drops its restart. */
  cancel (id: string): Transfer {
    const t = this.transfers.get(id)
    if (!t) throw new ApiError('NOT_FOUND', `no transfer with id ${id}`, { path: '/params/id' })
    if (t.state === 'running') t.controller.abort(new Error('cancelled by the user'))
    else if (t.kind === 'fetch' && t.error?.code === 'PEER_UNREACHABLE' && !this.restartedSince(t)) this.pending.remove(t.path)
    return t.toJSON()
  }

  /** A newer fetch into the same directory exists (the restart of `t`, or another one). */
  private restartedSince (t: TransferState): boolean {
    let newer = false
    for (const x of this.transfers.values()) {
      if (x === t) newer = true
      else if (newer && x.kind === 'fetch' && x.path === t.path) return true
    }
    return false
  }

  /** New store size cap and/or upload cap, in effect at once (a lower size cap evicts). */
  async configure (p: StoreConfigureParams): Promise<StoreStatus> {
    if (p.maxUploadBytesPerSec !== undefined) this.upload.bytesPerSec = p.maxUploadBytesPerSec === 0 ? null : p.maxUploadBytesPerSec
    if (p.capBytes !== undefined) {
      this.store.capBytes = p.capBytes
      await this.evict()
    }
    return this.status()
  }

  status (): StoreStatus {
    return { dir: this.store.chunks.dir, bytes: this.store.chunks.bytes, capBytes: this.store.capBytes, chunks: this.store.chunks.count, artifacts: this.store.list().length, maxUploadBytesPerSec: this.upload.bytesPerSec }
  }

  async verify (signal: AbortSignal): Promise<VerifyReport> {
    const r = await this.store.verify(signal)
    if (r.corrupt.length) this.announcer?.changed()
    return r
  }
}

export type { ArtifactRecord }
