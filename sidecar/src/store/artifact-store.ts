import { mkdirSync, readFileSync, unlinkSync, existsSync } from 'node:fs'
import { writeFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { ChunkStore } from './chunk-store.ts'
import { parseManifest, uniqueChunks, manifestSize, type Manifest } from './manifest.ts'
import { readJsonFile, writeJsonFileAtomic } from '../state/json-file.ts'
import { UnknownArtifactError, diskError } from './errors.ts'
import type { Logger } from '../log/logger.ts'

/** What the store knows about one artifact besides its manifest. */
export interface ArtifactRecord {
  id: string
  /** `name@label`, or null. */
  tag: string | null
  size: number
  files: number
  chunks: number
  createdAt: string
  /** Last publish, fetch or upload of it (LRU eviction order). */
  lastUsed: string
  /** Pinned artifacts are never evicted. */
  pinned: boolean
  /** Every chunk is in the store. */
  complete: boolean
  /** Published here (rather than fetched). */
  published: boolean
}

export interface VerifyReport {
  chunks: number
  bytes: number
  corrupt: string[]
  incomplete: string[]
}

/** A tag: a name, optionally `@` and a label (e.g. `web-dist@main`). */
export const TAG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}(@[A-Za-z0-9][A-Za-z0-9._/-]{0,63})?$/

/**
 * Manifests (`manifests/<id>`), the index of artifacts (`index.json`: tag, pin, completeness, last
 * use) and the chunk store, under `<state>/store`. Evicts least recently used unpinned artifacts (and
 * the chunks only they use) when the chunk data passes the cap.
 */
export class ArtifactStore {
  readonly chunks: ChunkStore
  private readonly dir: string
  private readonly indexPath: string
  private readonly records = new Map<string, ArtifactRecord>()
  private readonly manifests = new Map<string, Manifest>()
  private readonly log: Logger
  capBytes: number

  constructor (dir: string, capBytes: number, log: Logger) {
    this.dir = dir
    this.log = log
    this.capBytes = capBytes
    mkdirSync(join(dir, 'manifests'), { recursive: true, mode: 0o700 })
    this.chunks = new ChunkStore(dir)
    this.indexPath = join(dir, 'index.json')
    const idx = readJsonFile(this.indexPath) as { artifacts?: ArtifactRecord[] } | undefined
    for (const r of idx?.artifacts ?? []) {
      if (existsSync(this.manifestPath(r.id))) this.records.set(r.id, r)
    }
    for (const r of this.records.values()) {
      try { r.complete = this.missing(r.id).length === 0 } catch (err) {
        log.warn('artifact %s has an unusable manifest: %s', r.id, err)
        r.complete = false
      }
    }
  }

  private manifestPath (id: string): string {
    return join(this.dir, 'manifests', id)
  }

  private save (): void {
    writeJsonFileAtomic(this.indexPath, { v: 1, artifacts: [...this.records.values()] })
  }

  list (): ArtifactRecord[] {
    return [...this.records.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt))
  }

  get (id: string): ArtifactRecord | undefined {
    return this.records.get(id)
  }

  /** The manifest of a known artifact (cached after the first read). */
  manifest (id: string): Manifest {
    let m = this.manifests.get(id)
    if (m === undefined) {
      if (!this.records.has(id)) throw new UnknownArtifactError(`no artifact ${id} in the store`)
      m = parseManifest(readFileSync(this.manifestPath(id)), id).manifest
      if (this.manifests.size > 64) this.manifests.clear()
      this.manifests.set(id, m)
    }
    return m
  }

  manifestBytes (id: string): Buffer {
    if (!this.records.has(id)) throw new UnknownArtifactError(`no artifact ${id} in the store`)
    return readFileSync(this.manifestPath(id))
  }

  /** Resolves a full id, a unique id prefix (8+ hex) or a tag (its newest artifact) among local artifacts. */
  resolve (ref: string): ArtifactRecord | undefined {
    if (this.records.has(ref)) return this.records.get(ref)
    if (/^[0-9a-f]{8,63}$/.test(ref)) {
      const hits = [...this.records.values()].filter(r => r.id.startsWith(ref))
      if (hits.length === 1) return hits[0]
    }
    return this.list().find(r => r.tag === ref)
  }

  /** Adds (or refreshes) an artifact from its checked manifest bytes. */
  async add (bytes: Uint8Array, id: string, meta: { tag: string | null, pinned: boolean, published: boolean, createdAt?: string }): Promise<ArtifactRecord> {
    const { manifest } = parseManifest(bytes, id)
    if (!existsSync(this.manifestPath(id))) {
      const tmp = join(this.dir, 'tmp', `m-${id}.${randomBytes(4).toString('hex')}`)
      try {
        await writeFile(tmp, bytes, { mode: 0o600 })
        await rename(tmp, this.manifestPath(id))
      } catch (err) { throw diskError(err, `the manifest of ${id.slice(0, 12)}`) }
    }
    const old = this.records.get(id)
    const now = new Date().toISOString()
    const rec: ArtifactRecord = {
      id,
      tag: meta.tag ?? old?.tag ?? null,
      size: manifestSize(manifest),
      files: manifest.entries.filter(e => e.type === 'file').length,
      chunks: uniqueChunks(manifest).length,
      createdAt: meta.createdAt ?? old?.createdAt ?? now,
      lastUsed: now,
      pinned: meta.pinned || (old?.pinned ?? false),
      complete: false,
      published: meta.published || (old?.published ?? false)
    }
    this.records.set(id, rec)
    this.manifests.set(id, manifest)
    rec.complete = this.missing(id).length === 0
    this.save()
    return rec
  }

  /** Chunks of an artifact not in the store, in manifest order. */
  missing (id: string): Array<[string, number]> {
    return uniqueChunks(this.manifest(id)).filter(([h]) => !this.chunks.has(h))
  }

  markComplete (id: string): void {
    const r = this.records.get(id)
    if (!r) return
    r.complete = this.missing(id).length === 0
    r.lastUsed = new Date().toISOString()
    this.save()
  }

  touch (id: string): void {
    const r = this.records.get(id)
    if (r) r.lastUsed = new Date().toISOString()
  }

  setPinned (id: string, pinned: boolean): ArtifactRecord {
    const r = this.records.get(id)
    if (!r) throw new UnknownArtifactError(`no artifact ${id} in the store`)
    r.pinned = pinned
    this.save()
    return r
  }

  /** Forgets an artifact; its chunks go unless another artifact uses them. */
  async remove (id: string): Promise<void> {
    if (!this.records.delete(id)) return
    this.manifests.delete(id)
    try { unlinkSync(this.manifestPath(id)) } catch { /* gone */ }
    this.save()
    await this.dropUnreferenced()
  }

  /** Chunks used by any known artifact. */
  private referenced (): Set<string> {
    const keep = new Set<string>()
    for (const id of this.records.keys()) {
      try { for (const [h] of uniqueChunks(this.manifest(id))) keep.add(h) } catch (err) { this.log.warn('manifest %s unreadable: %s', id, err) }
    }
    return keep
  }

  private async dropUnreferenced (): Promise<number> {
    const keep = this.referenced()
    let freed = 0
    for (const h of [...this.chunks.hashes()]) {
      if (keep.has(h)) continue
      freed += this.chunks.size(h) ?? 0
      await this.chunks.delete(h)
    }
    return freed
  }

  /**
   * Brings the chunk data under the cap: unused chunks first, then least recently used unpinned
   * artifacts not in `busy` (being fetched or published). Returns the ids evicted.
   */
  async evict (busy: Set<string>): Promise<string[]> {
    if (this.chunks.bytes <= this.capBytes) return []
    // chunks of artifacts being fetched are referenced: their manifests are in the records
    await this.dropUnreferenced()
    const gone: string[] = []
    const candidates = [...this.records.values()].filter(r => !r.pinned && !busy.has(r.id)).sort((a, b) => a.lastUsed.localeCompare(b.lastUsed))
    for (const r of candidates) {
      if (this.chunks.bytes <= this.capBytes) break
      this.records.delete(r.id)
      this.manifests.delete(r.id)
      try { unlinkSync(this.manifestPath(r.id)) } catch { /* gone */ }
      gone.push(r.id)
      await this.dropUnreferenced()
    }
    if (gone.length) {
      this.save()
      this.log.info('store over its cap: evicted %d artifact(s) (%s)', gone.length, gone.map(g => g.slice(0, 12)).join(', '))
    }
    return gone
  }

  /** Hashes every chunk (deleting bad ones) and re-checks which artifacts are complete. */
  async verify (signal?: AbortSignal): Promise<VerifyReport> {
    const corrupt: string[] = []
    let bytes = 0
    let n = 0
    for (const h of [...this.chunks.hashes()]) {
      signal?.throwIfAborted()
      const size = this.chunks.size(h) ?? 0
      if (await this.chunks.check(h)) { bytes += size; n++ } else corrupt.push(h)
    }
    const incomplete: string[] = []
    for (const r of this.records.values()) {
      r.complete = this.missing(r.id).length === 0
      if (!r.complete) incomplete.push(r.id)
    }
    this.save()
    return { chunks: n, bytes, corrupt, incomplete }
  }
}
