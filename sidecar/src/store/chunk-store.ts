import { closeSync, existsSync, fstatSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeSync, close as fsClose } from 'node:fs'
import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { sha256Hex, HASH } from './manifest.ts'
import { CorruptChunkError, diskError } from './errors.ts'
import { byteLength } from './fs-calls.ts'
import { GatheredIo } from './gathered-io.ts'
import { ADD, DROP, decodeRecords, encodeRecords, listPacks, packPaths, type PackRecord } from './pack-file.ts'
import { COMPACT_MIN_DEAD_BYTES, OPEN_LINKED_FILES, PACK_MAX_BYTES } from './constants.ts'

interface Pack {
  seq: number
  data: string
  idx: string
  /** Bytes in the pack file: where the next chunk goes (for the pack being appended to). */
  size: number
  /** Bytes of its chunks still in the store. */
  live: number
  hashes: Set<string>
  /** Descriptor for reads (and writes, for the pack being appended to); opened on first use. */
  fd: number | undefined
  /** For index appends (O_APPEND); opened on first use. */
  idxFd: number | undefined
  /** Reads and appends of chunks on `fd`, adjacent ones gathered into one preadv / pwritev; made on first use. */
  reads: GatheredIo | undefined
  writes: GatheredIo | undefined
  /** Reads and writes in flight on `fd` (it is closed only when none is). */
  busy: number
  removed: boolean
  /** A linked pack (`<seq>.link`, see pack-file.ts): a file of an output tree, never written by the store. */
  linked: boolean
  /** Linked: a fetch is still writing the file (its changes are the store's own until `seal`). */
  writing: boolean
  /**
   * Linked: the file's ctime and size when its chunks were last known to be what the records say
   * (undefined: not looked at since the store was opened; its chunks are hashed on first read anyway).
   */
  stamp: string | undefined
}

/** A file of an output tree linked into the store (ChunkStore.linkFile). */
export type LinkedFile = number

interface Location { pack: Pack, offset: number, size: number }

/**
 * Chunks on disk, named by their SHA-256, in append-only pack files (see pack-file.ts). A chunk is
 * added by writing its bytes at the end of the current pack and then an index record, so a crash of
 * the process never leaves an indexed chunk whose bytes were not all written; chunks that arrive
 * together go out in one write. Deleting a chunk appends a drop record; a pack with nothing left is
 * deleted, and packs that are mostly dead space are compacted (their live chunks copied to the
 * current pack). No fsync per chunk (it would cost more than the network on a fast link): after a
 * power loss a chunk could be short or zeroed, so every chunk not written by this process is hashed
 * again the first time it is read (see `read`), and a bad one is deleted and fetched again like a
 * missing one.
 */
export class ChunkStore {
  /** The store directory (packs live in `packs/`). */
  readonly dir: string
  private readonly packDir: string
  private readonly locations = new Map<string, Location>()
  private readonly packs = new Map<number, Pack>()
  /** Chunks written or checked by this process (no need to hash them again on read). */
  private readonly verified = new Set<string>()
  /** Puts in progress, by hash (a second put of the same chunk waits for the first). */
  private readonly putting = new Map<string, Promise<boolean>>()
  /** Linked packs with a descriptor open, least recently opened first. */
  private readonly linkedOpen = new Set<Pack>()
  private total = 0
  private nextSeq = 1
  private current: Pack | undefined
  private compacting: Promise<void> | undefined

  constructor (dir: string) {
    this.dir = dir
    this.packDir = join(dir, 'packs')
    mkdirSync(this.packDir, { recursive: true, mode: 0o700 })
    // the tmp dir (manifests being written) of a previous run holds half-written files by definition
    rmSync(join(dir, 'tmp'), { recursive: true, force: true })
    mkdirSync(join(dir, 'tmp'), { recursive: true, mode: 0o700 })
    for (const seq of listPacks(this.packDir)) this.loadPack(seq)
    this.importChunkFiles(join(dir, 'chunks'))
  }

  /** Reads one pack's index; drops a torn tail and packs with nothing left in them. */
  private loadPack (seq: number): void {
    this.nextSeq = Math.max(this.nextSeq, seq + 1)
    const paths = packPaths(this.packDir, seq)
    const linked = existsSync(paths.link)
    const { idx } = paths
    const data = linked ? paths.link : paths.data
    let size: number
    try { size = statSync(data).size } catch {
      rmSync(idx, { force: true })
      return
    }
    let raw: Buffer
    try { raw = readFileSync(idx) } catch { raw = Buffer.alloc(0) }
    const { records, validBytes } = decodeRecords(raw)
    if (validBytes < raw.byteLength) truncateSync(idx, validBytes)
    const pack: Pack = { seq, data, idx, size, live: 0, hashes: new Set(), fd: undefined, idxFd: undefined, reads: undefined, writes: undefined, busy: 0, removed: false, linked, writing: false, stamp: undefined }
    for (const r of records) {
      if (r.kind === ADD) {
        // bytes past the end (a power loss cut the pack) or a second copy (a compaction cut short)
        if (r.offset + r.size > size || this.locations.has(r.hash)) continue
        this.register(r.hash, { pack, offset: r.offset, size: r.size })
      } else {
        const at = this.locations.get(r.hash)
        if (at?.pack !== pack || at.offset !== r.offset) continue
        this.forget(r.hash, at)
      }
    }
    if (pack.hashes.size === 0) {
      rmSync(data, { force: true })
      rmSync(idx, { force: true })
      return
    }
    this.packs.set(seq, pack)
  }

  /** Moves chunk files of the one-file-per-chunk layout (`chunks/ab/abcd…`, before packs) into a pack. */
  private importChunkFiles (old: string): void {
    if (!existsSync(old)) return
    const pack = this.newPack()
    const records: PackRecord[] = []
    for (const sub of readdirSync(old)) {
      let names: string[]
      try { names = readdirSync(join(old, sub)) } catch { continue }
      for (const name of names) {
        if (!HASH.test(name) || this.locations.has(name)) continue
        const bytes = readFileSync(join(old, sub, name))
        writeSync(pack.fd!, bytes, 0, bytes.byteLength, pack.size)
        records.push({ kind: ADD, hash: name, offset: pack.size, size: bytes.byteLength })
        this.register(name, { pack, offset: pack.size, size: bytes.byteLength })
        pack.size += bytes.byteLength
      }
    }
    writeSync(pack.idxFd!, encodeRecords(records))
    rmSync(old, { recursive: true, force: true })
  }

  private newPack (): Pack {
    const seq = this.nextSeq++
    const { data, idx } = packPaths(this.packDir, seq)
    const pack: Pack = { seq, data, idx, size: 0, live: 0, hashes: new Set(), fd: openSync(data, 'wx+', 0o600), idxFd: openSync(idx, 'a', 0o600), reads: undefined, writes: undefined, busy: 0, removed: false, linked: false, writing: false, stamp: undefined }
    this.packs.set(seq, pack)
    return pack
  }

  /**
   * Links a file a fetch is about to write (in its output tree) into the store, as a linked pack (see
   * pack-file.ts), so that the chunks written there need not be copied into a pack as well: `adopt`
   * records each one once its bytes are in the file, and `seal` ends the writing. Undefined when the
   * file cannot be hard-linked here (another filesystem, or one without hard links): the caller then
   * stores copies (`put`).
   */
  linkFile (path: string): LinkedFile | undefined {
    const seq = this.nextSeq++
    const { link, idx } = packPaths(this.packDir, seq)
    try { linkSync(path, link) } catch { return undefined }
    const pack: Pack = { seq, data: link, idx, size: 0, live: 0, hashes: new Set(), fd: undefined, idxFd: undefined, reads: undefined, writes: undefined, busy: 0, removed: false, linked: true, writing: true, stamp: undefined }
    this.packs.set(seq, pack)
    return seq
  }

  /**
   * Records chunk `hash` at `offset` of a linked file, whose bytes there were written (after being
   * verified) by this process. False when the store has the chunk already, or the linked file is gone
   * (the caller then stores a copy).
   */
  adopt (hash: string, file: LinkedFile, offset: number, size: number): boolean {
    const pack = this.packs.get(file)
    if (pack?.linked !== true || !pack.writing || this.locations.has(hash) || this.putting.has(hash)) return false
    try {
      appendAll(this.indexFd(pack), encodeRecords([{ kind: ADD, hash, offset, size }]))
    } catch (err) {
      throw diskError(err, `the store's record of chunk ${hash}`)
    }
    pack.size = Math.max(pack.size, offset + size)
    this.register(hash, { pack, offset, size })
    this.verified.add(hash)
    return true
  }

  /**
   * The fetch has stopped writing a linked file (its tree was committed or discarded): from now on a
   * change to the file (its ctime or size differs from now) makes its chunks be hashed again when read.
   * A linked file that got no chunk is unlinked.
   */
  async seal (file: LinkedFile): Promise<void> {
    const pack = this.packs.get(file)
    if (pack?.linked !== true || !pack.writing) return
    pack.writing = false
    if (pack.hashes.size === 0) { await this.removePack(pack); return }
    try { pack.stamp = stampOf(statSync(pack.data, { bigint: true })) } catch { pack.stamp = undefined }
    if (pack.busy === 0) this.closeLinked(pack)
  }

  /** A pack's index, opened for appends if it is not. */
  private indexFd (pack: Pack): number {
    return (pack.idxFd ??= this.openFile(pack, pack.idx, 'a'))
  }

  /**
   * Opens one of a pack's files. For a linked pack, descriptors of idle linked packs past
   * OPEN_LINKED_FILES are closed (a store can hold thousands of them; packs proper are few and keep
   * theirs).
   */
  private openFile (pack: Pack, path: string, flags: string): number {
    const fd = openSync(path, flags, 0o600)
    if (!pack.linked) return fd
    this.linkedOpen.delete(pack)
    this.linkedOpen.add(pack)
    for (const p of this.linkedOpen) {
      if (this.linkedOpen.size <= OPEN_LINKED_FILES) break
      if (p !== pack && p.busy === 0) this.closeLinked(p)
    }
    return fd
  }

  private closeLinked (p: Pack): void {
    for (const d of [p.fd, p.idxFd]) if (d !== undefined) fsClose(d, () => {})
    p.fd = undefined
    p.idxFd = undefined
    this.linkedOpen.delete(p)
  }

  has (hash: string): boolean {
    return this.locations.has(hash)
  }

  size (hash: string): number | undefined {
    return this.locations.get(hash)?.size
  }

  /** Bytes of chunk data in the store (dead space in packs not counted: compaction bounds it). */
  get bytes (): number {
    return this.total
  }

  get count (): number {
    return this.locations.size
  }

  hashes (): IterableIterator<string> {
    return this.locations.keys()
  }

  /** Where a chunk's bytes are (tests, tools). */
  location (hash: string): { file: string, offset: number, size: number } | undefined {
    const at = this.locations.get(hash)
    return at && { file: at.pack.data, offset: at.offset, size: at.size }
  }

  /**
   * Stores `bytes` (one buffer, or the parts of one chunk as they came off the network: they are
   * hashed and written without being joined) as chunk `hash`. `hashed`: the caller already computed
   * the SHA-256 of exactly these bytes (saves a second pass); otherwise they are hashed here. Throws
   * CorruptChunkError on a mismatch and NoSpaceError on a full disk. Returns false when the chunk was
   * already there. The buffers must not change until the promise settles.
   */
  async put (hash: string, bytes: Uint8Array | readonly Uint8Array[], hashed = false): Promise<boolean> {
    const parts = bytes instanceof Uint8Array ? [bytes] : bytes
    if (!hashed && hashParts(parts) !== hash) throw new CorruptChunkError(hash)
    if (this.locations.has(hash)) return false
    const other = this.putting.get(hash)
    if (other) { await other; return false }
    const p = this.append(hash, parts)
    this.putting.set(hash, p)
    try { return await p } finally { this.putting.delete(hash) }
  }

  private async append (hash: string, parts: readonly Uint8Array[]): Promise<boolean> {
    this.register(hash, await this.write(hash, parts))
    this.verified.add(hash)
    return true
  }

  /**
   * Writes a chunk at the end of the current pack, then its index record. The pack's writes are
   * gathered (gathered-io.ts: one in flight; chunks stored meanwhile go out together in the next), and
   * the record is appended only once the bytes are written, synchronously (a few dozen bytes: cheaper
   * than a trip through the thread pool, which showed up as much as the chunk write itself).
   */
  private async write (hash: string, parts: readonly Uint8Array[]): Promise<Location> {
    const size = byteLength(parts)
    if (this.current === undefined || this.current.size + size > PACK_MAX_BYTES) {
      if (this.current) this.finishCurrent()
      try { this.current = this.newPack() } catch (err) { throw diskError(err, 'a new pack file of the store') }
    }
    const pack = this.current
    const offset = pack.size
    pack.size += size
    pack.busy++
    try {
      pack.writes ??= GatheredIo.writes(() => pack.fd!)
      await pack.writes.run(offset, parts)
      appendAll(pack.idxFd!, encodeRecords([{ kind: ADD, hash, offset, size }]))
    } catch (err) {
      throw diskError(err, `chunk ${hash} to the store`)
    } finally {
      pack.busy--
      this.closeIfUnused(pack)
    }
    return { pack, offset, size }
  }

  private register (hash: string, at: Location): void {
    this.locations.set(hash, at)
    at.pack.hashes.add(hash)
    at.pack.live += at.size
    this.total += at.size
  }

  /** The pack being appended to is full: later chunks go to a new one; its descriptors stay for reads. */
  private finishCurrent (): void {
    const p = this.current!
    this.current = undefined
    if (p.hashes.size === 0 && p.busy === 0) void this.removePack(p)
  }

  /** Reads a chunk; hashes it first if this process has not yet (a bad chunk is deleted and throws CorruptChunkError). */
  async read (hash: string): Promise<Buffer> {
    const at = this.locations.get(hash)
    if (at === undefined) throw Object.assign(new Error(`no chunk ${hash} in the store`), { code: 'ENOENT' })
    const bytes = Buffer.allocUnsafe(at.size)
    let short = false
    const { pack } = at
    pack.busy++
    try {
      pack.reads ??= GatheredIo.reads(() => (pack.fd ??= this.openFile(pack, pack.data, 'r')))
      await pack.reads.run(at.offset, [bytes])
      // after the read: a change to the file made before the read or during it shows in its ctime
      if (pack.linked && !pack.writing) this.checkStamp(pack)
    } catch (err) {
      // a linked file the user truncated or made unreadable lost its chunks like a damaged pack
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ESHORT' && !(pack.linked && (code === 'EACCES' || code === 'EPERM'))) throw err
      short = true
    } finally {
      pack.busy--
      this.closeIfUnused(pack)
    }
    if (short || (!this.verified.has(hash) && sha256Hex(bytes) !== hash)) {
      await this.delete(hash)
      throw new CorruptChunkError(hash, `chunk ${hash} in the store was damaged (deleted; it will be fetched again)`)
    }
    this.verified.add(hash)
    return bytes
  }

  /**
   * A linked file whose ctime or size changed since it was last looked at (the user wrote to it): its
   * chunks are no longer taken as verified, so each is hashed before it is used, and a changed one is
   * deleted like a damaged one.
   */
  private checkStamp (pack: Pack): void {
    const now = stampOf(fstatSync(pack.fd!, { bigint: true }))
    if (now === pack.stamp) return
    if (pack.stamp !== undefined) for (const h of pack.hashes) this.verified.delete(h)
    pack.stamp = now
  }

  /** Hashes one chunk from disk; false (and the chunk deleted) when it does not match. */
  async check (hash: string): Promise<boolean> {
    this.verified.delete(hash)
    try {
      await this.read(hash)
      return true
    } catch {
      await this.delete(hash)
      return false
    }
  }

  async delete (hash: string): Promise<void> {
    const at = this.locations.get(hash)
    if (at === undefined) return
    this.forget(hash, at)
    const { pack } = at
    if (pack.hashes.size === 0 && pack !== this.current && !pack.writing) await this.removePack(pack)
    else {
      try {
        appendAll(this.indexFd(pack), encodeRecords([{ kind: DROP, hash, offset: at.offset, size: at.size }]))
      } catch { /* the chunk is gone for this process; a full disk may bring it back after a restart (it is still valid) */ }
    }
    this.compactLater()
  }

  private forget (hash: string, at: Location): void {
    this.locations.delete(hash)
    this.verified.delete(hash)
    at.pack.hashes.delete(hash)
    at.pack.live -= at.size
    this.total -= at.size
  }

  private async removePack (pack: Pack): Promise<void> {
    if (pack.removed) return
    pack.removed = true
    this.packs.delete(pack.seq)
    this.linkedOpen.delete(pack)
    if (this.current === pack) this.current = undefined
    this.closeIfUnused(pack)
    await unlink(pack.idx).catch(() => {})
    await unlink(pack.data).catch(() => {})
  }

  private closeIfUnused (pack: Pack): void {
    if (!pack.removed || pack.busy > 0) return
    for (const fd of [pack.fd, pack.idxFd]) if (fd !== undefined) fsClose(fd, () => {})
    pack.fd = undefined
    pack.idxFd = undefined
  }

  /** Dead bytes in packs other than the current one (a linked file's other bytes are the user's). */
  get deadBytes (): number {
    let dead = 0
    for (const p of this.packs.values()) if (p !== this.current && !p.linked) dead += p.size - p.live
    return dead
  }

  /** Starts a compaction when dead space passes COMPACT_MIN_DEAD_BYTES and a quarter of the live data. */
  private compactLater (): void {
    if (this.compacting !== undefined) return
    const dead = this.deadBytes
    if (dead < COMPACT_MIN_DEAD_BYTES || dead < this.total / 4) return
    this.compacting = this.compact().catch(() => {}).finally(() => { this.compacting = undefined })
  }

  /** Copies the live chunks of packs that are at least half dead into the current pack, then deletes them. */
  async compact (): Promise<void> {
    const victims = [...this.packs.values()].filter(p => p !== this.current && !p.linked && p.live * 2 <= p.size)
    for (const p of victims) {
      for (const hash of [...p.hashes]) {
        const at = this.locations.get(hash)
        if (at?.pack !== p) continue
        let bytes: Buffer
        try { bytes = await this.read(hash) } catch { continue } // damaged: deleted by read
        const moved = await this.write(hash, [bytes])
        if (this.locations.get(hash) !== at) continue // deleted meanwhile: the copy is dead space
        this.forget(hash, at)
        this.register(hash, moved)
        this.verified.add(hash)
      }
      if (p.hashes.size === 0) await this.removePack(p)
    }
  }

  /** Waits for writes in progress and closes every pack (tests; the process exit does the same). */
  async close (): Promise<void> {
    await this.compacting
    while ([...this.packs.values()].some(p => p.busy > 0)) await new Promise(resolve => setTimeout(resolve, 5))
    for (const p of this.packs.values()) {
      for (const fd of [p.fd, p.idxFd]) if (fd !== undefined) closeSync(fd)
      p.fd = undefined
      p.idxFd = undefined
    }
    this.current = undefined
  }
}

const stampOf = (st: { ctimeNs: bigint, size: bigint }): string => `${st.ctimeNs}:${st.size}`

/** Appends `b` to a file opened with O_APPEND (synchronously: index records are small). */
function appendAll (fd: number, b: Buffer): void {
  if (writeSync(fd, b) !== b.byteLength) throw Object.assign(new Error('short append to a pack index'), { code: 'ENOSPC' })
}

/** SHA-256 (hex) of the concatenation of `parts`. */
export function hashParts (parts: readonly Uint8Array[]): string {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest('hex')
}
