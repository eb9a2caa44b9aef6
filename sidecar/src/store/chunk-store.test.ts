import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { ChunkStore } from './chunk-store.ts'
import { CorruptChunkError } from './errors.ts'
import { RECORD_BYTES } from './pack-file.ts'

const work = (): string => mkdtempSync(join(tmpdir(), 'ml-chunks-'))
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const chunk = (n = 10_000): { hash: string, bytes: Buffer } => { const bytes = randomBytes(n); return { hash: sha(bytes), bytes } }
const packFiles = (dir: string): string[] => readdirSync(join(dir, 'packs')).sort()

/** A store with two chunks written by a process that has stopped since. */
async function twoChunks (t: { after(fn: () => void): void }): Promise<{ dir: string, store: ChunkStore, c1: ReturnType<typeof chunk>, c2: ReturnType<typeof chunk> }> {
  const dir = work()
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const store = new ChunkStore(dir)
  const [c1, c2] = [chunk(), chunk()]
  await store.put(c1.hash, c1.bytes)
  await store.put(c2.hash, c2.bytes)
  await store.close()
  return { dir, store, c1, c2 }
}

test('chunks stored together share one pack; they are there again after a restart', async (t) => {
  const dir = work()
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const store = new ChunkStore(dir)
  const cs = Array.from({ length: 50 }, (_, i) => chunk(1000 + i))
  assert.deepEqual(await Promise.all(cs.map(c => store.put(c.hash, [c.bytes.subarray(0, 10), c.bytes.subarray(10)], true))), cs.map(() => true))
  assert.equal(await store.put(cs[0].hash, cs[0].bytes), false, 'a chunk already there')
  const [a, b] = await Promise.all([store.put(cs[1].hash, cs[1].bytes), store.put(cs[1].hash, cs[1].bytes)])
  assert.deepEqual([a, b], [false, false])
  const fresh = chunk()
  assert.deepEqual(await Promise.all([store.put(fresh.hash, fresh.bytes), store.put(fresh.hash, fresh.bytes)]), [true, false], 'the same chunk twice at once is stored once')
  const total = cs.reduce((n, c) => n + c.bytes.byteLength, fresh.bytes.byteLength)
  assert.equal(store.bytes, total)
  assert.deepEqual(packFiles(dir), ['00000001.idx', '00000001.pack'])
  assert.equal(statSync(join(dir, 'packs', '00000001.pack')).size, total)
  assert.equal(statSync(join(dir, 'packs', '00000001.idx')).size, 51 * RECORD_BYTES)
  for (const c of cs) assert.deepEqual(await store.read(c.hash), c.bytes)
  await store.close()
  const again = new ChunkStore(dir) // a new process: chunks are hashed on first read
  assert.equal(again.count, 51)
  assert.equal(again.bytes, total)
  for (const c of cs) assert.deepEqual(await again.read(c.hash), c.bytes)
  await assert.rejects(store.put('0'.repeat(64), randomBytes(10)), CorruptChunkError)
  await again.close()
})

test('a crash mid-write: a torn index record and unindexed bytes are dropped at the next start', async (t) => {
  const { dir, c1, c2 } = await twoChunks(t)
  appendFileSync(join(dir, 'packs', '00000001.pack'), randomBytes(5000)) // written, never indexed
  appendFileSync(join(dir, 'packs', '00000001.idx'), randomBytes(20)) // a torn record
  const again = new ChunkStore(dir)
  assert.equal(statSync(join(dir, 'packs', '00000001.idx')).size, 2 * RECORD_BYTES, 'the torn tail is cut off')
  assert.equal(again.count, 2)
  const c3 = chunk()
  await again.put(c3.hash, c3.bytes)
  assert.equal(again.location(c3.hash)?.file, join(dir, 'packs', '00000002.pack'), 'a new process appends to a new pack')
  await again.close()
  // a power loss cut the pack short: the chunk past its end is gone, the other one is checked on read
  truncateSync(join(dir, 'packs', '00000001.pack'), c1.bytes.byteLength + 10)
  const third = new ChunkStore(dir)
  assert.equal(third.has(c2.hash), false)
  assert.deepEqual(await third.read(c1.hash), c1.bytes)
  assert.deepEqual(await third.read(c3.hash), c3.bytes)
  await third.close()
})

test('a damaged chunk is deleted on first read after a restart; check() finds one damaged in this run', async (t) => {
  const { dir, store, c1, c2 } = await twoChunks(t)
  const { damageChunk } = await import('../../../test/helpers/damage-chunk.ts')
  damageChunk(store, c1.hash)
  const again = new ChunkStore(dir)
  await assert.rejects(again.read(c1.hash), CorruptChunkError)
  assert.equal(again.has(c1.hash), false)
  assert.deepEqual(await again.read(c2.hash), c2.bytes)
  damageChunk(again, c2.hash, 1)
  assert.deepEqual(await again.read(c2.hash) !== undefined, true, 'verified in this run: not hashed again on read')
  assert.equal(await again.check(c2.hash), false)
  assert.equal(again.count, 0)
  await again.close()
  assert.equal(new ChunkStore(dir).count, 0, 'the deletions were recorded')
})

test('deleting every chunk of a pack deletes the pack; compaction moves live chunks out of mostly dead packs', async (t) => {
  const dir = work()
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  let store = new ChunkStore(dir)
  const first = Array.from({ length: 4 }, () => chunk())
  for (const c of first) await store.put(c.hash, c.bytes)
  await store.close()
  store = new ChunkStore(dir)
  const second = Array.from({ length: 8 }, () => chunk())
  for (const c of second) await store.put(c.hash, c.bytes)
  await store.close()
  store = new ChunkStore(dir)
  for (const c of first) await store.delete(c.hash)
  assert.deepEqual(packFiles(dir), ['00000002.idx', '00000002.pack'], 'an empty pack is deleted')
  for (const c of second.slice(0, 6)) await store.delete(c.hash)
  assert.equal(store.deadBytes, 6 * 10_000)
  await store.compact()
  assert.equal(store.deadBytes, 0)
  assert.deepEqual(packFiles(dir), ['00000003.idx', '00000003.pack'])
  for (const c of second.slice(6)) assert.deepEqual(await store.read(c.hash), c.bytes)
  await store.close()
  const again = new ChunkStore(dir)
  assert.deepEqual([...again.hashes()].sort(), second.slice(6).map(c => c.hash).sort())
  await again.close()
})

test('a store in the one-file-per-chunk layout is moved into a pack at start', async (t) => {
  const dir = work()
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const cs = [chunk(), chunk(), chunk()]
  for (const c of cs) {
    mkdirSync(join(dir, 'chunks', c.hash.slice(0, 2)), { recursive: true })
    writeFileSync(join(dir, 'chunks', c.hash.slice(0, 2), c.hash), c.bytes)
  }
  writeFileSync(join(dir, 'chunks', cs[2].hash.slice(0, 2), cs[2].hash), Buffer.from('damaged'))
  const store = new ChunkStore(dir)
  assert.equal(existsSync(join(dir, 'chunks')), false)
  assert.equal(store.count, 3)
  assert.deepEqual(await store.read(cs[0].hash), cs[0].bytes)
  await assert.rejects(store.read(cs[2].hash), CorruptChunkError, 'imported chunks are hashed on first read')
  await store.close()
})
