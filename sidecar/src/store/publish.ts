import { lstat, opendir, readlink, open } from 'node:fs/promises'
import { basename, join, posix } from 'node:path'
import { createHash } from 'node:crypto'
import { cutPoint } from './chunker.ts'
import { checkSymlinkTarget, encodeManifest, manifestId, type ManifestEntry } from './manifest.ts'
import { UnsafeManifestError } from './errors.ts'
import { CHUNK_MAX_BYTES, READ_BLOCK_BYTES } from './constants.ts'
import type { ChunkStore } from './chunk-store.ts'

export interface PublishProgress {
  bytesTotal: number
  bytesDone: number
  chunksDone: number
  /** Chunks that were new to the store (the rest were already there: dedup). */
  chunksNew: number
}

export interface PublishResult {
  id: string
  bytes: Buffer
  entries: number
  /** Sockets, FIFOs and devices, which an artifact cannot carry. */
  skipped: string[]
}

interface Walked { rel: string, abs: string, type: 'file' | 'dir' | 'symlink' | 'other', size: number, mode: number }

/** Lists a tree without following symlinks, sorted by path, one directory open at a time. */
async function * walk (root: string, rel = ''): AsyncGenerator<Walked> {
  const dir = await opendir(rel === '' ? root : join(root, rel))
  const names: string[] = []
  for await (const d of dir) names.push(d.name)
  names.sort()
  for (const name of names) {
    const r = rel === '' ? name : `${rel}/${name}`
    const abs = join(root, r)
    const st = await lstat(abs)
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other'
    yield { rel: r, abs, type, size: st.size, mode: st.mode & 0o7777 }
    if (type === 'dir') yield * walk(root, r)
  }
}

/**
 * Cuts one file into content-defined chunks, storing each new chunk; memory is one read buffer.
 * Returns the chunk list and the bytes actually read (the file may change while it is read).
 */
async function chunkFile (abs: string, store: ChunkStore, buf: Buffer, progress: PublishProgress, onProgress: () => void, signal?: AbortSignal): Promise<{ chunks: Array<[string, number]>, size: number }> {
  const fh = await open(abs, 'r')
  const chunks: Array<[string, number]> = []
  let size = 0
  try {
    let start = 0
    let end = 0
    let eof = false
    for (;;) {
      if (!eof && end - start < CHUNK_MAX_BYTES) {
        if (start > 0) { buf.copy(buf, 0, start, end); end -= start; start = 0 }
        const { bytesRead } = await fh.read(buf, end, buf.length - end, null)
        if (bytesRead === 0) eof = true
        end += bytesRead
        size += bytesRead
        continue
      }
      if (start === end) break
      const len = cutPoint(buf, start, end, eof)
      if (len === 0) throw new Error('chunker made no progress (bug)')
      signal?.throwIfAborted()
      const piece = buf.subarray(start, start + len)
      const hash = createHash('sha256').update(piece).digest('hex')
      if (await store.put(hash, piece, true)) progress.chunksNew++
      chunks.push([hash, len])
      progress.chunksDone++
      progress.bytesDone += len
      onProgress()
      start += len
    }
  } finally {
    await fh.close()
  }
  return { chunks, size }
}

/** Total size of the regular files under `root` (for progress). */
export async function treeSize (root: string): Promise<number> {
  const st = await lstat(root)
  if (!st.isDirectory()) return st.isFile() ? st.size : 0
  let n = 0
  for await (const e of walk(root)) if (e.type === 'file') n += e.size
  return n
}

/**
 * Publishes a directory (or one file) into the store: files are read in place and cut into chunks,
 * symlinks are recorded (never followed) and must stay inside the tree. Returns the canonical
 * manifest and its id; the caller records it.
 */
export async function publishTree (root: string, store: ChunkStore, onProgress: (p: PublishProgress) => void, signal?: AbortSignal): Promise<PublishResult & { progress: PublishProgress }> {
  const progress: PublishProgress = { bytesTotal: await treeSize(root), bytesDone: 0, chunksDone: 0, chunksNew: 0 }
  const buf = Buffer.allocUnsafe(READ_BLOCK_BYTES + CHUNK_MAX_BYTES)
  const entries: ManifestEntry[] = []
  const skipped: string[] = []
  const report = (): void => onProgress(progress)
  const st = await lstat(root)
  const items: AsyncIterable<Walked> = st.isDirectory()
    ? walk(root)
    : (async function * () { yield { rel: basename(root), abs: root, type: st.isFile() ? 'file' : 'other', size: st.size, mode: st.mode & 0o7777 } as Walked })()
  for await (const e of items) {
    signal?.throwIfAborted()
    if (e.type === 'dir') entries.push({ path: e.rel, type: 'dir', mode: e.mode })
    else if (e.type === 'symlink') {
      const target = await readlink(e.abs)
      try {
        checkSymlinkTarget(e.rel, target)
      } catch (err) {
        throw new UnsafeManifestError(`${(err as Error).message}: an artifact may only hold links inside its tree`)
      }
      entries.push({ path: e.rel, type: 'symlink', target })
    } else if (e.type === 'file') {
      const { chunks, size } = await chunkFile(e.abs, store, buf, progress, report, signal)
      entries.push({ path: e.rel, type: 'file', mode: e.mode, size, chunks })
    } else skipped.push(e.rel)
  }
  for (const e of entries) if (posix.isAbsolute(e.path)) throw new UnsafeManifestError(`absolute path ${e.path}`)
  const bytes = encodeManifest({ v: 1, entries })
  return { id: manifestId(bytes), bytes, entries: entries.length, skipped, progress }
}
