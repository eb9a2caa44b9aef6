import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, statSync, chmodSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateIdentity } from './identity.ts'

const dir = mkdtempSync(join(tmpdir(), 'ml-identity-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

test('creates an Ed25519 key at mode 0600 and loads the same identity again', async () => {
  const path = join(dir, 'a', 'identity.key')
  const k1 = await loadOrCreateIdentity(path)
  assert.equal(k1.type, 'Ed25519')
  if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600)
  const k2 = await loadOrCreateIdentity(path)
  assert.equal(peerIdFromPrivateKey(k2).toString(), peerIdFromPrivateKey(k1).toString())
})

test('a key readable by others is tightened to 0600', { skip: process.platform === 'win32' && 'POSIX modes only' }, async () => {
  const path = join(dir, 'b.key')
  await loadOrCreateIdentity(path)
  chmodSync(path, 0o644)
  await loadOrCreateIdentity(path)
  assert.equal(statSync(path).mode & 0o777, 0o600)
})

test('a corrupt key file is an error naming the file, not a new identity', async () => {
  const path = join(dir, 'c.key')
  writeFileSync(path, 'garbage', { mode: 0o600 })
  await assert.rejects(loadOrCreateIdentity(path), (err: Error) => err.message.includes(path) && /corrupt/.test(err.message))
})
