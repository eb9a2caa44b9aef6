import { test } from 'node:test'
import assert from 'node:assert/strict'
import { meshIdFromSecret, mdnsServiceTag, newMeshRecord, noisePrologue, publicMesh } from './mesh-key.ts'

test('mesh id, prologue and mDNS tag follow the secret only', () => {
  const a = newMeshRecord('team', false, Buffer.alloc(32, 1))
  const a2 = newMeshRecord('renamed', true, Buffer.alloc(32, 1))
  const b = newMeshRecord('team', false, Buffer.alloc(32, 2))
  assert.match(a.id, /^[0-9a-f]{16}$/)
  assert.equal(a.id, a2.id)
  assert.equal(a.id, meshIdFromSecret(Buffer.alloc(32, 1)))
  assert.notEqual(a.id, b.id)
  assert.deepEqual(noisePrologue(a), noisePrologue(a2))
  assert.notDeepEqual(noisePrologue(a), noisePrologue(b))
  assert.match(mdnsServiceTag(a), /^_ml-[0-9a-f]{12}\._udp\.local$/)
  assert.notEqual(mdnsServiceTag(a), mdnsServiceTag(b))
  // neither the tag nor the prologue reveals the mesh id
  assert.ok(!mdnsServiceTag(a).includes(a.id.slice(0, 12)))
})

test('the public mesh record has no secret', () => {
  const m = publicMesh(newMeshRecord('team', false))
  assert.deepEqual(Object.keys(m).sort(), ['createdAt', 'id', 'name', 'personal'])
})
