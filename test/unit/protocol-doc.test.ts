// Fails when the schemas change and schemas/PROTOCOL.md does not (as rust-analyzer's lsp_ext.rs hash check).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ERROR_CODES, EVENT_NAMES, METHOD_NAMES } from '../../sidecar/src/gen/protocol-types.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const doc = readFileSync(join(root, 'schemas', 'PROTOCOL.md'), 'utf8')

test('PROTOCOL.md was updated for the current schemas (digest)', () => {
  const digest = readFileSync(join(root, 'sidecar', 'src', 'gen', 'schema-digest.txt'), 'utf8').trim()
  const m = /<!-- schema-digest: ([0-9a-f]{64}) -->/.exec(doc)
  assert.ok(m, 'PROTOCOL.md has no schema-digest line')
  assert.equal(m[1], digest, 'schemas/ changed but PROTOCOL.md did not: describe the change there, then set its schema-digest to sidecar/src/gen/schema-digest.txt')
})

test('PROTOCOL.md documents every method, event and error code', () => {
  for (const name of [...METHOD_NAMES, ...EVENT_NAMES, ...ERROR_CODES]) assert.ok(doc.includes(`\`${name}\``), `PROTOCOL.md does not mention \`${name}\``)
})
