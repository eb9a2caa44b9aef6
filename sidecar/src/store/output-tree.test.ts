import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, existsSync, readdirSync, rmSync, openSync, readSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ChunkStore } from './chunk-store.ts'
import { OutputTree, OutputExistsError } from './output-tree.ts'
import { publishTree } from './publish.ts'
import { parseManifest, uniqueChunks, type Manifest } from './manifest.ts'
import { treeDigest } from '../../../test/helpers/tree-digest.ts'
import { damageChunk } from '../../../test/helpers/damage-chunk.ts'

const work = (): string => mkdtempSync(join(tmpdir(), 'ml-out-'))

/** A tree with nested dirs and modes, an executable, an empty file, a symlink, and a chunk used three times. */
async function published (dir: string): Promise<{ src: string, store: ChunkStore, manifest: Manifest }> {
  const src = join(dir, 'src')
  mkdirSync(join(src, 'a/b'), { recursive: true, mode: 0o750 })
  const big = randomBytes(3 * 1024 * 1024)
  writeFileSync(join(src, 'a/b/big.bin'), big)
  writeFileSync(join(src, 'a/twice.bin'), Buffer.concat([big, big])) // shares every chunk with big.bin
  writeFileSync(join(src, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 })
  writeFileSync(join(src, 'empty.txt'), '')
  symlinkSync('a/b/big.bin', join(src, 'link'))
  const store = new ChunkStore(join(dir, 'store'))
  const r = await publishTree(src, store, () => {})
  return { src, store, manifest: parseManifest(r.bytes, r.id).manifest }
}

/** A chunk as three parts, the way it comes off the network. */
const asParts = (b: Buffer): Uint8Array[] => [b.subarray(0, 100), b.subarray(100, 5000), b.subarray(5000)]

test('chunks written in any order land at their offsets at once; commit renames the finished tree into place', async () => {
  const dir = work()
  try {
    const { src, store, manifest } = await published(dir)
    const out = join(dir, 'out')
    const tree = await OutputTree.create(manifest, out)
    assert.equal(existsSync(out), false)
    // the last chunk of big.bin first: it is in the temp tree at its offset before any other chunk arrived
    const file = manifest.entries.find(e => e.path === 'a/b/big.bin')
    assert.equal(file?.type, 'file')
    const chunks = (file as { chunks: Array<[string, number]> }).chunks
    const first = chunks[chunks.length - 1][0]
    const offset = 3 * 1024 * 1024 - chunks[chunks.length - 1][1]
    const bytes = await store.read(first)
    await tree.write(first, asParts(bytes))
    const fd = openSync(join(tree.tempDir, 'a/b/big.bin'), 'r')
    const back = Buffer.alloc(bytes.byteLength)
    readSync(fd, back, 0, back.byteLength, offset)
    closeSync(fd)
    assert.ok(back.equals(bytes))
    assert.equal(tree.complete, false)
    await assert.rejects(tree.commit(), /never written/)
    for (const h of uniqueChunks(manifest).map(([x]) => x).filter(x => x !== first)) await tree.write(h, asParts(await store.read(h)))
    assert.equal(tree.complete, true)
    await tree.commit()
    assert.deepEqual(treeDigest(out), treeDigest(src))
    assert.deepEqual(readdirSync(dir).sort(), ['out', 'src', 'store'])
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('copyFrom fills the tree from the store and reports a damaged chunk (deleted from the store)', async () => {
  const dir = work()
  try {
    const { src, manifest } = await published(dir)
    const hashes = uniqueChunks(manifest).map(([h]) => h)
    const bad = hashes[1]
    const store = new ChunkStore(join(dir, 'store')) // a new process: nothing verified yet
    const good = damageChunk(store, bad)
    const out = join(dir, 'out')
    const tree = await OutputTree.create(manifest, out)
    assert.deepEqual(await tree.copyFrom(store, hashes), [bad])
    assert.equal(store.has(bad), false)
    assert.deepEqual(tree.missing(), [bad])
    await tree.write(bad, [good]) // fetched again
    await tree.commit()
    assert.deepEqual(treeDigest(out), treeDigest(src))
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('discard leaves nothing; an occupied output is refused before anything is written', async () => {
  const dir = work()
  try {
    const { store, manifest } = await published(dir)
    const out = join(dir, 'out')
    const tree = await OutputTree.create(manifest, out)
    const [h] = uniqueChunks(manifest)[0]
    await tree.write(h, [await store.read(h)])
    await tree.discard()
    assert.deepEqual(readdirSync(dir).sort(), ['src', 'store'])
    mkdirSync(out)
    writeFileSync(join(out, 'mine'), 'x')
    await assert.rejects(OutputTree.create(manifest, out), OutputExistsError)
    assert.deepEqual(readdirSync(dir).sort(), ['out', 'src', 'store'])
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

// Runs in a private mount namespace on a 1 MiB tmpfs: a 3 MiB tree cannot fit.
const FULL_DISK_SCRIPT = `
import { createHash, randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
const { OutputTree } = await import(process.env.OUTPUT_TREE)
const dir = process.env.FULL_DIR
const chunks = [0, 1, 2].map(() => randomBytes(1024 * 1024))
const list = chunks.map(c => [createHash('sha256').update(c).digest('hex'), c.length])
const m = { v: 1, entries: [{ path: 'big.bin', type: 'file', mode: 0o644, size: 3 * 1024 * 1024, chunks: list }] }
const tree = await OutputTree.create(m, join(dir, 'out'))
let error = null
try { for (const [i, c] of chunks.entries()) await tree.write(list[i][0], [c]) } catch (err) { error = err.name }
await tree.discard()
console.log(JSON.stringify({ error, left: readdirSync(dir) }))
`

test('a full disk gives NoSpaceError and, after discard, leaves no half-written output', async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root (a tmpfs in a private mount namespace)'); return }
  const dir = work()
  try {
    const url = pathToFileURL(join(import.meta.dirname, 'output-tree.ts')).href
    const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs "$FULL_DIR" && exec "$NODE" --input-type=module -e "$SCRIPT"'], {
      env: { ...process.env, FULL_DIR: dir, NODE: process.execPath, SCRIPT: FULL_DISK_SCRIPT, OUTPUT_TREE: url },
      encoding: 'utf8',
      timeout: 30_000
    })
    if (r.status !== 0 && /unshare|mount/.test(r.stderr)) { t.skip(`no private mount namespace here: ${r.stderr.trim()}`); return }
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), { error: 'NoSpaceError', left: [] })
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
