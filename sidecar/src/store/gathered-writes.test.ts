import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GatheredWrites } from './gathered-writes.ts'
import { WRITE_BATCH_PARTS } from './constants.ts'

test('writes given in any order, in one turn and while others are in flight, with gaps and many parts, land at their offsets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-gw-'))
  try {
    const path = join(dir, 'f')
    const fd = openSync(path, 'w+')
    const w = new GatheredWrites(Promise.resolve(fd))
    const want = randomBytes(3 * 1024 * 1024)
    // pieces of 3000 bytes, each as 3 parts (more parts than one pwritev takes), shuffled
    const pieces: Array<[number, Uint8Array[]]> = []
    for (let at = 0; at < want.byteLength; at += 3000) {
      const b = want.subarray(at, Math.min(at + 3000, want.byteLength))
      pieces.push([at, [b.subarray(0, 1), b.subarray(1, 2000), b.subarray(2000)]])
    }
    assert.ok(pieces.length * 3 > WRITE_BATCH_PARTS * 4)
    for (let i = pieces.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [pieces[i], pieces[j]] = [pieces[j], pieces[i]]
    }
    const half = pieces.length >> 1
    const first = pieces.slice(0, half).map(([at, parts]) => w.write(at, parts))
    await new Promise(resolve => setImmediate(resolve)) // the first batch is being written now
    assert.equal(w.idle, false)
    const second = pieces.slice(half).map(([at, parts]) => w.write(at, parts))
    await Promise.all([...first, ...second])
    assert.equal(w.idle, true)
    closeSync(fd)
    assert.ok(readFileSync(path).equals(want))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a file that could not be opened fails every write with the open error, and the writer is idle after', async () => {
  const w = new GatheredWrites(Promise.reject(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })))
  const results = await Promise.allSettled([w.write(0, [Buffer.from('a')]), w.write(1, [Buffer.from('b')]), w.write(10, [Buffer.from('c')])])
  for (const r of results) {
    assert.equal(r.status, 'rejected')
    assert.equal(((r as PromiseRejectedResult).reason as NodeJS.ErrnoException).code, 'EACCES')
  }
  assert.equal(w.idle, true)
})

test('a write past what the descriptor allows fails only its run; the writes before it still land', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-gw-'))
  try {
    const path = join(dir, 'f')
    const fd = openSync(path, 'w+')
    const w = new GatheredWrites(Promise.resolve(fd))
    const ok = w.write(0, [Buffer.from('hello')])
    const bad = w.write(Number.MAX_SAFE_INTEGER - 2, [Buffer.from('xyz')]) // beyond any file size limit
    await ok
    await assert.rejects(bad)
    closeSync(fd)
    assert.equal(readFileSync(path, 'utf8'), 'hello')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
