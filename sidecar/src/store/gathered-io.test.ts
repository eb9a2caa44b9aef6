import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, openSync, closeSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GatheredIo } from './gathered-io.ts'
import { WRITE_BATCH_PARTS } from './constants.ts'

const withDir = async (fn: (dir: string) => Promise<void>): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-gio-'))
  try { await fn(dir) } finally { rmSync(dir, { recursive: true, force: true }) }
}

/** `bytes` cut into pieces of 3000 bytes, each as 3 parts (more parts than one call takes), shuffled. */
function shuffledPieces (bytes: Buffer): Array<[number, Uint8Array[]]> {
  const pieces: Array<[number, Uint8Array[]]> = []
  for (let at = 0; at < bytes.byteLength; at += 3000) {
    const b = bytes.subarray(at, Math.min(at + 3000, bytes.byteLength))
    pieces.push([at, [b.subarray(0, 1), b.subarray(1, 2000), b.subarray(2000)]])
  }
  for (let i = pieces.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [pieces[i], pieces[j]] = [pieces[j], pieces[i]]
  }
  return pieces
}

test('writes given in any order, in one turn and while others are in flight, with gaps and many parts, land at their offsets', () => withDir(async (dir) => {
  const path = join(dir, 'f')
  const fd = openSync(path, 'w+')
  const w = GatheredIo.writes(() => fd)
  const want = randomBytes(3 * 1024 * 1024)
  const pieces = shuffledPieces(want)
  assert.ok(pieces.length * 3 > WRITE_BATCH_PARTS * 4)
  const half = pieces.length >> 1
  const first = pieces.slice(0, half).map(([at, parts]) => w.run(at, parts))
  await new Promise(resolve => setImmediate(resolve)) // the first batch is being written now
  assert.equal(w.idle, false)
  const second = pieces.slice(half).map(([at, parts]) => w.run(at, parts))
  await Promise.all([...first, ...second])
  assert.equal(w.idle, true)
  closeSync(fd)
  assert.ok(readFileSync(path).equals(want))
}))

test('reads in any order fill their buffers; a read past the end of the file fails with ESHORT, the others do not', () => withDir(async (dir) => {
  const path = join(dir, 'f')
  const want = randomBytes(1024 * 1024 + 17)
  writeFileSync(path, want)
  const fd = openSync(path, 'r')
  const r = GatheredIo.reads(() => fd)
  const got = Buffer.alloc(want.byteLength)
  const pieces = shuffledPieces(got)
  const past = r.run(want.byteLength, [Buffer.alloc(20)]) // right after the last piece: the same preadv
  const overlapping = r.run(0, [Buffer.alloc(5000)]) // the same bytes as the first pieces: its own run
  await Promise.all(pieces.map(([at, parts]) => r.run(at, parts)))
  await overlapping
  await assert.rejects(past, (err: NodeJS.ErrnoException) => err.code === 'ESHORT')
  closeSync(fd)
  assert.ok(got.equals(want))
}))

test('a file that could not be opened fails every call with the open error, and the queue is idle after', async () => {
  const w = GatheredIo.writes(() => Promise.reject(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })))
  const results = await Promise.allSettled([w.run(0, [Buffer.from('a')]), w.run(1, [Buffer.from('b')]), w.run(10, [Buffer.from('c')])])
  for (const r of results) {
    assert.equal(r.status, 'rejected')
    assert.equal(((r as PromiseRejectedResult).reason as NodeJS.ErrnoException).code, 'EACCES')
  }
  assert.equal(w.idle, true)
})

test('a write past what the descriptor allows fails only its run; the writes before it still land', () => withDir(async (dir) => {
  const path = join(dir, 'f')
  const fd = openSync(path, 'w+')
  const w = GatheredIo.writes(() => fd)
  const ok = w.run(0, [Buffer.from('hello')])
  const bad = w.run(Number.MAX_SAFE_INTEGER - 2, [Buffer.from('xyz')]) // beyond any file size limit
  await ok
  await assert.rejects(bad)
  closeSync(fd)
  assert.equal(readFileSync(path, 'utf8'), 'hello')
}))
