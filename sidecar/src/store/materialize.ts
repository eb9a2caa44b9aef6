import { mkdir, open, symlink, chmod, rename, rm, readdir, rmdir, stat } from 'node:fs/promises'
import { dirname, join, basename } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { ChunkStore } from './chunk-store.ts'
import type { Manifest } from './manifest.ts'
import { diskError } from './errors.ts'

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

/**
 * Writes a manifest's tree from the store into a temp directory next to `out`, then renames it into
 * place, so `out` either appears whole or not at all (a full disk or a cancel leaves nothing). The
 * manifest was checked by parseManifest (no path or link leaves the tree). Returns the bytes written.
 */
export async function materialize (m: Manifest, chunks: ChunkStore, out: string, signal?: AbortSignal): Promise<number> {
  await checkOutput(out)
  const tmp = join(dirname(out), `.${basename(out)}.meshlink-${randomBytes(4).toString('hex')}.tmp`)
  let written = 0
  try {
    await mkdir(tmp, { mode: 0o700 })
    const dirs = m.entries.filter(e => e.type === 'dir')
    for (const e of m.entries) {
      signal?.throwIfAborted()
      const p = join(tmp, e.path)
      await mkdir(dirname(p), { recursive: true })
      if (e.type === 'dir') await mkdir(p, { recursive: true })
      else if (e.type === 'symlink') await symlink(e.target, p)
      else {
        const fh = await open(p, 'wx', 0o600)
        try {
          for (const [h] of e.chunks) {
            const b = await chunks.read(h)
            await fh.write(b)
            written += b.byteLength
          }
        } finally { await fh.close() }
        await chmod(p, e.mode & 0o7777)
      }
    }
    // directory modes last: a read-only directory would refuse its own files
    for (const e of dirs.reverse()) await chmod(join(tmp, e.path), e.mode & 0o7777)
    await chmod(tmp, 0o755)
    await rmdir(out).catch(() => {}) // an empty directory the user made for it
    await rename(tmp, out)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {})
    throw diskError(err, out)
  }
  return written
}
