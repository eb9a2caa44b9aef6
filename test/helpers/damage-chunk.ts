// Damages a chunk where the store keeps it (in its pack file), as a disk fault or a power loss would.
import { openSync, readSync, writeSync, closeSync } from 'node:fs'
import type { ChunkStore } from '../../sidecar/src/store/chunk-store.ts'

/**
 * Flips every bit of the first `count` bytes of chunk `hash` (default: all of it), so the chunk is
 * damaged whatever its content (writing fixed bytes over it could leave it as it was); returns its good bytes.
 */
export function damageChunk (store: ChunkStore, hash: string, count?: number): Buffer {
  const at = store.location(hash)
  if (at === undefined) throw new Error(`no chunk ${hash} in the store`)
  const fd = openSync(at.file, 'r+')
  try {
    const good = Buffer.alloc(at.size)
    readSync(fd, good, 0, at.size, at.offset)
    const bad = good.subarray(0, Math.min(count ?? at.size, at.size)).map(b => b ^ 0xff)
    writeSync(fd, bad, 0, bad.byteLength, at.offset)
    return good
  } finally { closeSync(fd) }
}
