import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, existsSync, rmSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { acquireLock, AlreadyRunningError } from './lock.ts'

const dir = mkdtempSync(join(tmpdir(), 'ml-lock-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

test('a live holder is named; release removes the lock', () => {
  const path = join(dir, 'a.lock')
  // a lock held by another live process (our parent shell stands in for a running sidecar)
  writeFileSync(path, String(process.ppid))
  assert.throws(() => acquireLock(path, dir), (e: Error) => e instanceof AlreadyRunningError && e.message.includes(`pid ${process.ppid}`) && e.message.includes(dir))
  rmSync(path)
  const release = acquireLock(path, dir)
  assert.equal(readFileSync(path, 'utf8'), String(process.pid))
  release()
  assert.equal(existsSync(path), false)
})

test('a lock left by a dead process is taken over', () => {
  const path = join(dir, 'b.lock')
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
  writeFileSync(path, dead)
  const release = acquireLock(path, dir)
  assert.equal(readFileSync(path, 'utf8'), String(process.pid))
  release()
})

test('garbage in the lock file is treated as stale', () => {
  const path = join(dir, 'c.lock')
  writeFileSync(path, 'not a pid')
  acquireLock(path, dir)()
})
