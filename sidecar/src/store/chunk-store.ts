import { mkdirSync, readdirSync, statSync, rmSync } from 'node:fs'
import { unlink, open } from 'node:fs/promises'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { sha256Hex, HASH } from './manifest.ts'
import { CorruptChunkError, diskError } from './errors.ts'
import { openFd, closeFd, writeAllAt, readExactly, renamePath } from './fs-calls.ts'

/**
 * Chunks on disk, one file each, named by their SHA-256 (`chunks/ab/abcd…`). A chunk is written to
 * `tmp/` and renamed into place only after its bytes were hashed, so a crash of the process never
 * leaves a chunk whose content differs from its name. No fsync per chunk (it would cost more than the
 * network on a fast link): after a power loss a chunk could be short or zeroed, so every chunk not
 * written by this process is hashed again the first time it is read (see `read`), and a bad one is
 * deleted and fetched again like a missing one.
 */
export class ChunkStore {
  readonly dir: string
  private readonly tmp: string
  /** hash → length of every chunk on disk. */
  private readonly sizes = new Map<string, number>()
  /** Chunks written or checked by this process (no need to hash them again on read). */
  private readonly verified = new Set<string>()
  private total = 0
  /** `chunks/xy` directories known to exist (saves a mkdir per put). */
  private readonly subdirs = new Set<string>()
  /** Makes temp names unique within this process (the tmp dir is emptied at start). */
  private tmpSeq = 0

  constructor (dir: string) {
    this.dir = join(dir, 'chunks')
    this.tmp = join(dir, 'tmp')
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    // temp files of a previous run are half-written chunks by definition
    rmSync(this.tmp, { recursive: true, force: true })
    mkdirSync(this.tmp, { recursive: true, mode: 0o700 })
    for (const sub of readdirSync(this.dir)) {
      let names: string[]
      try { names = readdirSync(join(this.dir, sub)) } catch { continue }
      for (const name of names) {
        if (!HASH.test(name)) continue
        try {
          const size = statSync(join(this.dir, sub, name)).size
          this.sizes.set(name, size)
          this.total += size
        } catch { /* raced with a delete */ }
      }
    }
  }

  path (hash: string): string {
    return join(this.dir, hash.slice(0, 2), hash)
  }

  has (hash: string): boolean {
    return this.sizes.has(hash)
  }

  size (hash: string): number | undefined {
    return this.sizes.get(hash)
  }

  /** Bytes of chunk data on disk. */
  get bytes (): number {
    return this.total
  }

  get count (): number {
    return this.sizes.size
  }

  hashes (): IterableIterator<string> {
    return this.sizes.keys()
  }

  /**
   * Stores `bytes` (one buffer, or the parts of one chunk as they came off the network: they are
   * hashed and written without being joined) as chunk `hash`. `hashed`: the caller already computed
   * the SHA-256 of exactly these bytes (saves a second pass); otherwise they are hashed here. Throws
   * CorruptChunkError on a mismatch and NoSpaceError on a full disk. Returns false when the chunk was
   * already there.
   */
  async put (hash: string, bytes: Uint8Array | readonly Uint8Array[], hashed = false): Promise<boolean> {
    const parts = bytes instanceof Uint8Array ? [bytes] : bytes
    if (!hashed && hashParts(parts) !== hash) throw new CorruptChunkError(hash)
    if (this.sizes.has(hash)) return false
    const tmp = join(this.tmp, `${hash}.${process.pid}.${this.tmpSeq++}`)
    let size = 0
    for (const p of parts) size += p.byteLength
    try {
      const fd = await openFd(tmp, 'wx')
      try { await writeAllAt(fd, parts, 0) } finally { await closeFd(fd) }
      this.ensureSubdir(hash)
      await renamePath(tmp, this.path(hash))
    } catch (err) {
      await unlink(tmp).catch(() => {})
      throw diskError(err, `chunk ${hash.slice(0, 12)} to the store`)
    }
    if (!this.sizes.has(hash)) {
      this.sizes.set(hash, size)
      this.total += size
    }
    this.verified.add(hash)
    return true
  }

  private ensureSubdir (hash: string): void {
    const sub = hash.slice(0, 2)
    if (this.subdirs.has(sub)) return
    mkdirSync(join(this.dir, sub), { recursive: true, mode: 0o700 })
    this.subdirs.add(sub)
  }

  /** Reads a chunk; hashes it first if this process has not yet (a bad chunk is deleted and throws CorruptChunkError). */
  async read (hash: string): Promise<Buffer> {
    const size = this.sizes.get(hash)
    if (size === undefined) throw Object.assign(new Error(`no chunk ${hash} in the store`), { code: 'ENOENT' })
    const bytes = Buffer.allocUnsafe(size)
    let short = false
    const fd = await openFd(this.path(hash), 'r')
    try {
      await readExactly(fd, bytes, 0)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESHORT') throw err
      short = true
    } finally { await closeFd(fd) }
    if (short || (!this.verified.has(hash) && sha256Hex(bytes) !== hash)) {
      await this.delete(hash)
      throw new CorruptChunkError(hash, `chunk ${hash} in the store was damaged (deleted; it will be fetched again)`)
    }
    this.verified.add(hash)
    return bytes
  }

  /** Hashes one chunk from disk; false (and the chunk deleted) when it does not match. */
  async check (hash: string): Promise<boolean> {
    try {
      const fh = await open(this.path(hash), 'r')
      try {
        const bytes = await fh.readFile()
        if (sha256Hex(bytes) === hash) { this.verified.add(hash); return true }
      } finally { await fh.close() }
    } catch { /* missing counts as bad */ }
    await this.delete(hash)
    return false
  }

  async delete (hash: string): Promise<void> {
    await unlink(this.path(hash)).catch(() => {})
    const size = this.sizes.get(hash)
    if (size !== undefined) {
      this.total -= size
      this.sizes.delete(hash)
    }
    this.verified.delete(hash)
  }
}

/** SHA-256 (hex) of the concatenation of `parts`. */
export function hashParts (parts: readonly Uint8Array[]): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest('hex')
}
