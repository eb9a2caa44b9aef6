import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PendingFetches, type PendingFetch } from './pending-fetches.ts'
import { createLogger } from '../log/logger.ts'

const dir = mkdtempSync(join(tmpdir(), 'ml-pending-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const lines: string[] = []
const log = createLogger({ level: 'warn', stream: { write: (s: string) => { lines.push(s); return true } } })
const job = (out: string, over: Partial<PendingFetch> = {}): PendingFetch => ({ artifact: 'ab'.repeat(32), out, pin: false, maxBytesPerSec: null, since: '2026-11-24T06:00:00.000Z', ...over })

test('fetches are kept in the file across instances; one per output directory', () => {
  const path = join(dir, 'a.json')
  const p = new PendingFetches(path, log)
  assert.deepEqual(p.list(), [])
  p.add(job('/tmp/one'))
  p.add(job('/tmp/two', { pin: true, maxBytesPerSec: 1000 }))
  p.add(job('/tmp/one', { artifact: 'cd'.repeat(32) }))
  assert.equal(statSync(path).mode & 0o777, 0o600)
  const again = new PendingFetches(path, log)
  assert.deepEqual(again.list().map(f => [f.out, f.artifact.slice(0, 2), f.pin, f.maxBytesPerSec]), [['/tmp/two', 'ab', true, 1000], ['/tmp/one', 'cd', false, null]])
  again.remove('/tmp/two')
  again.remove('/tmp/never')
  assert.deepEqual(new PendingFetches(path, log).list().map(f => f.out), ['/tmp/one'])
  again.clear()
  assert.deepEqual(new PendingFetches(path, log).list(), [], 'clear empties the file')
})

test('a damaged file or malformed entries are ignored with a warning, never trusted', () => {
  const bad = join(dir, 'bad.json')
  writeFileSync(bad, '{ not json')
  assert.deepEqual(new PendingFetches(bad, log).list(), [])
  assert.ok(lines.some(l => l.includes('bad.json') && l.includes('not valid JSON')))
  const mixed = join(dir, 'mixed.json')
  writeFileSync(mixed, JSON.stringify({ v: 1, fetches: [job('/tmp/ok'), job('relative/out'), job('/tmp/x', { artifact: '../../etc' }), job('/tmp/y', { maxBytesPerSec: -5 }), job('/tmp/z', { since: 'yesterday' }), null, 'text'] }))
  const p = new PendingFetches(mixed, log)
  assert.deepEqual(p.list().map(f => f.out), ['/tmp/ok'])
  assert.ok(lines.some(l => l.includes('mixed.json') && l.includes('6 malformed')))
  p.add(job('/tmp/new'))
  assert.deepEqual(JSON.parse(readFileSync(mixed, 'utf8')).fetches.map((f: PendingFetch) => f.out), ['/tmp/ok', '/tmp/new'], 'rewritten without the bad entries')
})
