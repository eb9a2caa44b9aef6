import { mkdir, symlink, chmod, rename, rm, rmdir, stat, readdir } from 'node:fs/promises'
import { dirname, join, basename } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { ChunkStore, LinkedFile } from './chunk-store.ts'
import type { Manifest } from './manifest.ts'
import { CorruptChunkError, diskError } from './errors.ts'
import { openFd, closeFd, byteLength } from './fs-calls.ts'
import { GatheredIo } from './gathered-io.ts'
import { LINK_MIN_FILE_BYTES, OPEN_OUTPUT_FILES, STORE_COPY_CONCURRENCY } from './constants.ts'

/** The output path is taken (exists and is not an empty directory). */
export class OutputExistsError extends Error {
  readonly name = 'OutputExistsError'
}

/** Checks `out` can receive a tree: it does not exist or is an empty directory, and its parent exists. */
export async function checkOutput (out: string): Promise<void> {
  const parent = await stat(dirname(out)).catch(() => undefined)
  if (!parent?.isDirectory()) throw new OutputExistsError(`the parent directory of ${out} does not exist`)
  const st = await stat(out).catch(() => undefined)
  if (st === undefined) return
  if (!st.isDirectory() || (await readdir(out)).length > 0) throw new OutputExistsError(`${out} exists and is not an empty directory`)
}

/** Temp trees for `out` are `<dir>/.<name>.meshlink-<pid>-<random>.tmp`. */
const tempPrefix = (out: string): string => `.${basename(out)}.meshlink-`

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // exists, owned by someone else
  }
}

async function removeStaleTempTrees (out: string): Promise<void> {
  const prefix = tempPrefix(out)
  let names: string[]
  try { names = await readdir(dirname(out)) } catch { return }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const pid = Number(/^(\d+)-[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length))?.[1])
    if (!Number.isSafeInteger(pid) || pid === process.pid || alive(pid)) continue
    await rm(join(dirname(out), name), { recursive: true, force: true }).catch(() => {})
  }
}

/** Where one chunk goes: file index and byte offset in it. */
type Placement = [file: number, offset: number]

interface OpenFile { fd: Promise<number>, writes: GatheredIo, users: number }

/**
 * A manifest's tree being written in a temp directory next to `out`, chunk by chunk in any order:
 * each chunk's places in the files are known from the manifest, so a fetch writes every verified chunk
 * straight to its offsets (positional writes, adjacent ones gathered into one call) as it arrives,
 * instead of reading the whole tree back from the store afterwards. `commit` renames the tree into
 * place once every chunk is written, so `out` appears whole or not at all (a full disk or a cancel
 * leaves nothing: `discard`). The manifest was checked by parseManifest (no path or link leaves the
 * tree).
 *
 * Given the store, the tree keeps every chunk it writes there too. It links its larger files into the
 * store (ChunkStore.linkFile): a chunk written to a linked file is recorded there by the store
 * (`adopt`) instead of being copied into a pack, so a fetched byte is written once. `keepsInStore`
 * says which chunks that holds for.
 */
export class OutputTree {
  private readonly manifest: Manifest
  private readonly out: string
  private readonly tmp: string
  private readonly files: Array<{ path: string, mode: number, size: number }> = []
  /** Where the chunks it writes are kept too (see `write`). */
  readonly store: ChunkStore | undefined
  /** Linked files by file index. */
  private readonly linked = new Map<number, LinkedFile>()
  private readonly places = new Map<string, Placement[]>()
  /** Distinct chunks not written yet. */
  private readonly unwritten = new Set<string>()
  /** Open descriptors by file index (at most OPEN_OUTPUT_FILES idle ones are kept). */
  private readonly open = new Map<number, OpenFile>()
  private discarded = false

  private constructor (m: Manifest, out: string, store: ChunkStore | undefined) {
    this.manifest = m
    this.out = out
    this.store = store
    this.tmp = join(dirname(out), `${tempPrefix(out)}${process.pid}-${randomBytes(4).toString('hex')}.tmp`)
    for (const e of m.entries) {
      if (e.type !== 'file') continue
      const file = this.files.push({ path: join(this.tmp, e.path), mode: e.mode, size: e.size }) - 1
      let offset = 0
      for (const [hash, size] of e.chunks) {
        let at = this.places.get(hash)
        if (at === undefined) { at = []; this.places.set(hash, at); this.unwritten.add(hash) }
        at.push([file, offset])
        offset += size
      }
    }
  }

  /**
   * Checks `out` is free and creates the temp tree: directories, symlinks and empty files, the larger
   * ones linked into `store` when given (and the filesystem allows). Temp trees for `out` left by a
   * process that is gone (a sidecar killed in the middle of a fetch) are removed; the chunks it wrote
   * to linked files stay in the store.
   */
  static async create (m: Manifest, out: string, signal?: AbortSignal, store?: ChunkStore): Promise<OutputTree> {
    await checkOutput(out)
    await removeStaleTempTrees(out)
    const t = new OutputTree(m, out, store)
    try {
      await mkdir(t.tmp, { mode: 0o700 })
      for (const e of m.entries) {
        signal?.throwIfAborted()
        const p = join(t.tmp, e.path)
        if (e.type === 'dir') await mkdir(p, { recursive: true })
        else {
          await mkdir(dirname(p), { recursive: true })
          if (e.type === 'symlink') await symlink(e.target, p)
          else await closeFd(await openFd(p, 'wx'))
        }
      }
      t.linkLarger()
    } catch (err) {
      await t.discard()
      throw diskError(err, out)
    }
    return t
  }

  /**
   * Links the files of LINK_MIN_FILE_BYTES or more into the store, if the tree has one; the first that
   * cannot be linked ends it (another filesystem: none will). The store must be able to read them
   * back, so a file without the owner's read bit is copied instead.
   */
  private linkLarger (): void {
    if (this.store === undefined) return
    for (const [file, f] of this.files.entries()) {
      if (f.size < LINK_MIN_FILE_BYTES || (f.mode & 0o400) === 0) continue
      const seq = this.store.linkFile(f.path)
      if (seq === undefined) return
      this.linked.set(file, seq)
    }
  }

  /** The temp directory the tree is written in (renamed to `out` by commit). */
  get tempDir (): string { return this.tmp }

  /** Distinct chunks of the tree not written yet. */
  missing (): string[] {
    return [...this.unwritten]
  }

  get complete (): boolean {
    return this.unwritten.size === 0
  }

  /** Where the chunk goes in a linked file, if it goes to one. */
  private linkedPlace (hash: string): Placement | undefined {
    if (this.linked.size === 0) return undefined
    return this.places.get(hash)?.find(([file]) => this.linked.has(file))
  }

  /** The chunk goes to a linked file, where the store records it instead of keeping a copy. */
  keepsInStore (hash: string): boolean {
    return this.linkedPlace(hash) !== undefined
  }

  /**
   * Writes one chunk (given as parts, e.g. as it came off the network; verified) to every place it has
   * in the tree, and keeps it in the tree's store if it has one and the chunk is not there yet: recorded
   * where it went in a linked file, else copied into a pack meanwhile, from the same buffers (also when
   * its linked file was gone).
   */
  async write (hash: string, parts: readonly Uint8Array[]): Promise<void> {
    const at = this.places.get(hash)
    if (at === undefined) throw new Error(`chunk ${hash} is not part of this tree`)
    const place = this.linkedPlace(hash)
    const copy = place === undefined && this.store?.has(hash) === false ? this.store.put(hash, parts, true) : undefined
    const writing = Promise.all(at.map(([file, offset]) => this.writeAt(file, parts, offset))).catch((err: unknown) => { throw diskError(err, this.out) })
    await Promise.all([writing, copy])
    this.unwritten.delete(hash)
    if (place === undefined || this.store!.has(hash)) return
    if (!this.store!.adopt(hash, this.linked.get(place[0])!, place[1], byteLength(parts))) await this.store!.put(hash, parts, true)
  }

  private async writeAt (file: number, parts: readonly Uint8Array[], offset: number): Promise<void> {
    if (this.discarded) throw new Error(`the output for ${this.out} was discarded`)
    let f = this.open.get(file)
    if (f === undefined) {
      const fd = openFd(this.files[file].path, 'r+')
      fd.catch(() => {}) // a failed open is reported by the writes waiting for it
      f = { fd, writes: GatheredIo.writes(() => fd), users: 0 }
      this.open.set(file, f)
    }
    f.users++
    try {
      await f.writes.run(offset, parts)
    } finally {
      f.users--
      void this.closeIdle(this.discarded ? 0 : OPEN_OUTPUT_FILES)
    }
  }

  /** Closes idle descriptors until at most `keep` files are open. */
  private closeIdle (keep: number): Promise<unknown> {
    const closing: Array<Promise<void>> = []
    for (const [file, f] of this.open) {
      if (this.open.size <= keep) break
      if (f.users > 0) continue
      this.open.delete(file)
      closing.push(f.fd.then(closeFd, () => {}))
    }
    return Promise.all(closing)
  }

  /**
   * Copies chunks that are in the store into the tree, a few at a time. A chunk the store finds
   * damaged is deleted there and left unwritten here; its hash is returned so it can be fetched.
   */
  async copyFrom (chunks: ChunkStore, hashes: readonly string[], signal?: AbortSignal): Promise<string[]> {
    const damaged: string[] = []
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < hashes.length) {
        signal?.throwIfAborted()
        const hash = hashes[next++]
        let bytes: Buffer
        try { bytes = await chunks.read(hash) } catch (err) {
          if (err instanceof CorruptChunkError) { damaged.push(hash); continue }
          throw err
        }
        await this.write(hash, [bytes])
      }
    }
    await Promise.all(Array.from({ length: STORE_COPY_CONCURRENCY }, worker))
    return damaged
  }

  /** Sets the modes and renames the tree into place; every chunk must have been written. */
  async commit (): Promise<void> {
    if (this.unwritten.size > 0) throw new Error(`${this.unwritten.size} chunk(s) of the tree were never written (bug)`)
    try {
      await this.closeIdle(0)
      for (const f of this.files) await chmod(f.path, f.mode & 0o7777)
      // directory modes last, deepest first: a read-only directory would refuse its own files
      const dirs = this.manifest.entries.filter(e => e.type === 'dir').reverse()
      for (const e of dirs) await chmod(join(this.tmp, e.path), e.mode & 0o7777)
      await chmod(this.tmp, 0o755)
      await rmdir(this.out).catch(() => {}) // an empty directory the user made for it
      await rename(this.tmp, this.out)
      await this.sealLinked()
    } catch (err) {
      await this.discard()
      throw diskError(err, this.out)
    }
  }

  /** Removes the temp tree (after a failure or a cancel); what linked files got stays in the store. */
  async discard (): Promise<void> {
    this.discarded = true
    await this.closeIdle(0).catch(() => {})
    await rm(this.tmp, { recursive: true, force: true }).catch(() => {})
    await this.sealLinked()
  }

  /** Tells the store the tree's linked files are written (from now on a change to one is the user's). */
  private async sealLinked (): Promise<void> {
    const linked = [...this.linked.values()]
    this.linked.clear()
    for (const seq of linked) await this.store!.seal(seq)
  }
}
