import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, rmSync, statSync, openSync, writeSync, closeSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ChunkStore } from './chunk-store.ts'
import { OutputTree } from './output-tree.ts'
import { publishTree } from './publish.ts'
import { parseManifest, uniqueChunks, type Manifest } from './manifest.ts'
import { CorruptChunkError } from './errors.ts'
import { LINK_MIN_FILE_BYTES } from './constants.ts'
import { treeDigest } from '../../../test/helpers/tree-digest.ts'

const work = (t: { after(fn: () => void): void }, base = tmpdir()): string => {
  const d = mkdtempSync(join(base, 'ml-linked-'))
  t.after(() => rmSync(d, { recursive: true, force: true }))
  return d
}
const packFiles = (store: string): string[] => readdirSync(join(store, 'packs')).sort()
const fileChunks = (m: Manifest, path: string): Array<[string, number]> => {
  const e = m.entries.find(x => x.path === path)
  assert.equal(e?.type, 'file')
  return (e as { chunks: Array<[string, number]> }).chunks
}

/** A source tree published into its own store: a big file (linked when fetched), a small one (copied). */
async function source (dir: string): Promise<{ src: string, from: ChunkStore, manifest: Manifest }> {
  const src = join(dir, 'src')
  mkdirSync(src)
  writeFileSync(join(src, 'big.bin'), randomBytes(3 * LINK_MIN_FILE_BYTES))
  writeFileSync(join(src, 'small.txt'), randomBytes(LINK_MIN_FILE_BYTES / 4))
  const from = new ChunkStore(join(dir, 'from'))
  const r = await publishTree(src, from, () => {})
  return { src, from, manifest: parseManifest(r.bytes, r.id).manifest }
}

async function fetchAll (manifest: Manifest, from: ChunkStore, out: string, store: ChunkStore, hashes = uniqueChunks(manifest).map(([h]) => h)): Promise<OutputTree> {
  const tree = await OutputTree.create(manifest, out, undefined, store)
  for (const h of hashes) await tree.write(h, [await from.read(h)]) // into the tree, and kept in `store`
  return tree
}

test('a fetched big file is linked into the store: its chunks are on disk once, in the output file, and stay after a restart', async (t) => {
  const dir = work(t)
  const { src, from, manifest } = await source(dir)
  const storeDir = join(dir, 'store')
  const store = new ChunkStore(storeDir)
  const out = join(dir, 'out')
  const big = fileChunks(manifest, 'big.bin')
  const small = fileChunks(manifest, 'small.txt')
  const tree = await fetchAll(manifest, from, out, store)
  assert.ok(big.every(([h]) => tree.keepsInStore(h)), 'the big file\'s chunks are kept where the tree writes them')
  assert.ok(small.every(([h]) => !tree.keepsInStore(h)), 'the small file\'s are copied')
  await tree.commit()
  assert.deepEqual(await treeDigest(out), await treeDigest(src))
  // big.bin is a linked pack (same inode as the output file); only small.txt was copied into a pack
  const files = packFiles(storeDir)
  const links = files.filter(f => f.endsWith('.link'))
  assert.equal(links.length, 1, `one linked file in ${files.join(' ')}`)
  assert.equal(statSync(join(storeDir, 'packs', links[0])).ino, statSync(join(out, 'big.bin')).ino)
  const packBytes = files.filter(f => f.endsWith('.pack')).reduce((n, f) => n + statSync(join(storeDir, 'packs', f)).size, 0)
  assert.equal(packBytes, small.reduce((n, [, s]) => n + s, 0), 'the pack holds only the small file\'s chunks')
  assert.equal(store.bytes, 3 * LINK_MIN_FILE_BYTES + LINK_MIN_FILE_BYTES / 4, 'linked chunks count toward the store\'s size')
  for (const [h] of [...big, ...small]) assert.ok((await store.read(h)).equals(await from.read(h)))
  await store.close()
  const again = new ChunkStore(storeDir)
  assert.equal(again.count, uniqueChunks(manifest).length)
  for (const [h] of big) assert.ok((await again.read(h)).equals(await from.read(h)), 'hashed on first read after a restart, and good')
  await again.close()
  await from.close()
})

/** A source tree fetched (committed) into `out`, its big file linked into `store`. */
async function fetched (t: { after(fn: () => void): void }): Promise<{ from: ChunkStore, store: ChunkStore, out: string, big: Array<[string, number]> }> {
  const dir = work(t)
  const { from, manifest } = await source(dir)
  const store = new ChunkStore(join(dir, 'store'))
  const out = join(dir, 'out')
  await (await fetchAll(manifest, from, out, store)).commit()
  return { from, store, out, big: fileChunks(manifest, 'big.bin') }
}

test('the user writing into a fetched file: the changed chunk is noticed on read and deleted, the others still serve', async (t) => {
  const { from, store, out, big } = await fetched(t)
  for (const [h] of big) await store.read(h) // all verified by this process
  const fd = openSync(join(out, 'big.bin'), 'r+')
  writeSync(fd, Buffer.from('edited'), 0, 6, 10) // in place, inside the first chunk
  closeSync(fd)
  await assert.rejects(store.read(big[0][0]), CorruptChunkError)
  assert.equal(store.has(big[0][0]), false, 'the changed chunk is gone from the store (fetched again when needed)')
  for (const [h] of big.slice(1)) assert.ok((await store.read(h)).equals(await from.read(h)))
  await store.close()
  await from.close()
})

test('the user deleting or replacing a fetched file: the store keeps the fetched bytes', async (t) => {
  const { from, store, out, big } = await fetched(t)
  unlinkSync(join(out, 'big.bin'))
  writeFileSync(join(out, 'big.bin'), 'rebuilt') // a new file by that name, as a build writes it
  for (const [h] of big) assert.ok((await store.read(h)).equals(await from.read(h)))
  await store.close()
  await from.close()
})

test('a fetch cut short: what reached linked files stays in the store; a linked file that got nothing is unlinked', async (t) => {
  const dir = work(t)
  const { from, manifest } = await source(dir)
  const storeDir = join(dir, 'store')
  const store = new ChunkStore(storeDir)
  const big = fileChunks(manifest, 'big.bin')
  const tree = await fetchAll(manifest, from, join(dir, 'out'), store, big.slice(0, 3).map(([h]) => h))
  await tree.discard()
  assert.deepEqual(readdirSync(dir).filter(n => n.includes('.tmp')), [], 'the temp tree is gone')
  for (const [h] of big.slice(0, 3)) assert.ok((await store.read(h)).equals(await from.read(h)))
  assert.equal(store.count, 3)
  const empty = await OutputTree.create(manifest, join(dir, 'out2'), undefined, store)
  await empty.discard()
  assert.equal(packFiles(storeDir).filter(f => f.endsWith('.link')).length, 1, 'only the linked file that holds chunks is left')
  // deleting its chunks (eviction) unlinks it and its index; the output is not touched
  for (const [h] of big.slice(0, 3)) await store.delete(h)
  assert.deepEqual(packFiles(storeDir), [])
  await store.close()
  await from.close()
})

test('output on another filesystem than the store: chunks are copied into packs and the fetch works the same', async (t) => {
  const a = work(t)
  let b: string
  try { b = work(t, '/dev/shm') } catch { t.skip('no /dev/shm to put the output on another filesystem'); return }
  if (statSync(a).dev === statSync(b).dev) { t.skip(`${tmpdir()} and /dev/shm are one filesystem here: no cross-device case to test`); return }
  const { src, from, manifest } = await source(a)
  const storeDir = join(a, 'store')
  const store = new ChunkStore(storeDir)
  const out = join(b, 'out')
  const tree = await OutputTree.create(manifest, out, undefined, store)
  assert.equal(uniqueChunks(manifest).some(([h]) => tree.keepsInStore(h)), false, 'nothing can be linked across filesystems')
  for (const [h] of uniqueChunks(manifest)) await tree.write(h, [await from.read(h)])
  await tree.commit()
  assert.deepEqual(await treeDigest(out), await treeDigest(src))
  assert.equal(packFiles(storeDir).filter(f => f.endsWith('.link')).length, 0)
  assert.equal(store.count, uniqueChunks(manifest).length)
  assert.ok(readFileSync(join(out, 'big.bin')).equals(readFileSync(join(src, 'big.bin'))))
  await store.close()
  await from.close()
})
