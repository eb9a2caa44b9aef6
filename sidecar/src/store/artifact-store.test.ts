import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync, readdirSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { ArtifactStore } from './artifact-store.ts'
import { publishTree } from './publish.ts'
import { CorruptChunkError, UnsafeManifestError } from './errors.ts'
import { parseManifest } from './manifest.ts'
import { createLogger } from '../log/logger.ts'
import { damageChunk } from '../../../test/helpers/damage-chunk.ts'

const log = createLogger({ level: 'error', stream: { write: () => {} } })
const tmp = (): string => mkdtempSync(join(tmpdir(), 'ml-store-'))

async function publish (store: ArtifactStore, dir: string, tag: string | null = null, pinned = true): Promise<string> {
  const r = await publishTree(dir, store.chunks, () => {})
  await store.add(r.bytes, r.id, { tag, pinned, published: true })
  return r.id
}

test('publish records files, dirs and in-tree symlinks; refuses links out of the tree', async (t) => {
  const d = tmp(); const s = tmp()
  t.after(() => { rmSync(d, { recursive: true }); rmSync(s, { recursive: true }) })
  mkdirSync(join(d, 'a/empty'), { recursive: true })
  writeFileSync(join(d, 'a/x.bin'), randomBytes(700_000))
  writeFileSync(join(d, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
  writeFileSync(join(d, 'zero'), '')
  symlinkSync('a/x.bin', join(d, 'link'))
  const store = new ArtifactStore(s, 1e12, log)
  const id = await publish(store, d, 'web@main')
  const m = store.manifest(id)
  assert.deepEqual(m.entries.map(e => `${e.type}:${e.path}`), ['dir:a', 'dir:a/empty', 'file:a/x.bin', 'symlink:link', 'file:run.sh', 'file:zero'])
  assert.equal((m.entries.find(e => e.path === 'run.sh') as { mode: number }).mode & 0o777, 0o755)
  assert.equal(store.resolve('web@main')?.id, id)
  assert.equal(store.resolve(id.slice(0, 10))?.id, id)
  assert.equal(store.get(id)?.complete, true)
  assert.equal(await publish(store, d), id, 'the same tree is the same artifact')
  symlinkSync('../../etc', join(d, 'a/out'))
  await assert.rejects(publishTree(d, store.chunks, () => {}), UnsafeManifestError)
})

test('chunks are written atomically and a damaged chunk is caught on read and by verify', async (t) => {
  const s = tmp()
  t.after(() => rmSync(s, { recursive: true }))
  let store = new ArtifactStore(s, 1e12, log)
  const bytes = randomBytes(1000)
  const h = createHash('sha256').update(bytes).digest('hex')
  await assert.rejects(store.chunks.put('0'.repeat(64), bytes), CorruptChunkError)
  assert.equal(store.chunks.has('0'.repeat(64)), false)
  assert.equal(await store.chunks.put(h, bytes), true)
  assert.equal(readdirSync(join(s, 'tmp')).length, 0, 'no temp files left')
  damageChunk(store.chunks, h, 7)
  writeFileSync(join(s, 'tmp', 'half-written'), 'x')
  store = new ArtifactStore(s, 1e12, log) // a new process: chunks are checked on first read
  assert.equal(existsSync(join(s, 'tmp', 'half-written')), false, 'temp files of a crashed run are removed')
  await assert.rejects(store.chunks.read(h), CorruptChunkError)
  assert.equal(store.chunks.has(h), false, 'the damaged chunk is gone')
  await store.chunks.put(h, bytes)
  damageChunk(store.chunks, h, 7)
  const report = await store.verify()
  assert.deepEqual(report.corrupt, [h])
})

test('LRU eviction of unpinned artifacts over the cap; pinned and busy ones stay; shared chunks stay', async (t) => {
  const s = tmp(); const dirs = [tmp(), tmp(), tmp()]
  t.after(() => { for (const d of [s, ...dirs]) rmSync(d, { recursive: true }) })
  const store = new ArtifactStore(s, 1e12, log)
  for (const [i, d] of dirs.entries()) writeFileSync(join(d, 'f'), randomBytes(300_000 + i))
  writeFileSync(join(dirs[2], 'shared'), readFileSync(join(dirs[0], 'f')))
  const pinned = await publish(store, dirs[0], null, true)
  const old = await publish(store, dirs[1], null, false)
  const busy = await publish(store, dirs[2], null, false)
  store.capBytes = 700_000
  const gone = await store.evict(new Set([busy]))
  assert.deepEqual(gone, [old])
  assert.ok(store.get(pinned) && store.get(busy) && !store.get(old))
  assert.ok(store.chunks.bytes <= 1_000_000)
  assert.equal(store.get(busy)?.complete, true)
  store.capBytes = 1
  assert.deepEqual(await store.evict(new Set()), [busy])
  assert.equal(store.missing(pinned).length, 0, 'chunks shared with a pinned artifact survive')
  parseManifest(store.manifestBytes(pinned), pinned)
})

test('a rebuilt tree with a few changed files shares most chunks', async (t) => {
  const s = tmp(); const d = tmp()
  t.after(() => { rmSync(s, { recursive: true }); rmSync(d, { recursive: true }) })
  const store = new ArtifactStore(s, 1e12, log)
  for (let i = 0; i < 20; i++) writeFileSync(join(d, `f${i}`), randomBytes(400_000))
  writeFileSync(join(d, 'big'), randomBytes(6_000_000))
  const a = await publish(store, d)
  writeFileSync(join(d, 'f3'), randomBytes(400_000))
  const big = readFileSync(join(d, 'big'))
  writeFileSync(join(d, 'big'), Buffer.concat([big.subarray(0, 3_000_000), Buffer.from('patched'), big.subarray(3_000_100)]))
  const b = await publish(store, d)
  assert.notEqual(a, b)
  const before = new Set(store.manifest(a).entries.flatMap(e => e.type === 'file' ? e.chunks.map(c => c[0]) : []))
  const after = store.manifest(b).entries.flatMap(e => e.type === 'file' ? e.chunks : [])
  const newBytes = after.filter(c => !before.has(c[0])).reduce((n, c) => n + c[1], 0)
  assert.ok(newBytes < 1_500_000, `${newBytes} new bytes of 14 MB`)
})
