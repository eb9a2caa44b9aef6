// Damages a chunk where the store keeps it (in its pack file), as a disk fault or a power loss would.
import { openSync, readSync, writeSync, closeSync } from 'node:fs'
import type { ChunkStore } from '../../sidecar/src/store/chunk-store.ts'

/** Overwrites the start of chunk `hash` with `bytes` (default: zeros over all of it); returns its good bytes. */
export function damageChunk (store: ChunkStore, hash: string, bytes?: Uint8Array): Buffer {
  const at = store.location(hash)
  if (at === undefined) throw new Error(`no chunk ${hash} in the store`)
  const fd = openSync(at.file, 'r+')
  try {
    const good = Buffer.alloc(at.size)
    readSync(fd, good, 0, at.size, at.offset)
    const bad = bytes ?? Buffer.alloc(at.size)
    writeSync(fd, bad, 0, Math.min(bad.byteLength, at.size), at.offset)
    return good
  } finally { closeSync(fd) }
}
