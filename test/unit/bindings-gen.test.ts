// The Python and Go bindings' generated models and method stubs must match schemas/ (as
// `npm run gen:check` does for TypeScript): regenerate in memory and compare with the committed files.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

test('bindings/ generated files are up to date with schemas/ (npm run gen:bindings)', () => {
  const r = spawnSync(process.execPath, [join(root, 'bindings', 'gen', 'gen-bindings.mjs'), '--check'], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr || r.stdout)
})
