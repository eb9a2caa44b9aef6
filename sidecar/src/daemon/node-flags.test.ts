import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SIDECAR_NODE_FLAGS } from './node-flags.ts'

const root = join(import.meta.dirname, '..', '..', '..')

test('bin/meshlink passes the sidecar node flags to the runtime it execs', () => {
  const exec = readFileSync(join(root, 'bin', 'meshlink'), 'utf8').split('\n').find(l => l.startsWith('exec '))
  assert.ok(exec, 'bin/meshlink has an exec line')
  assert.match(exec, new RegExp(`^exec "\\$node_bin" ${SIDECAR_NODE_FLAGS.join(' ')} "\\$here/dist/meshlink.mjs" "\\$@"$`))
})

test('npm start runs the sidecar with the sidecar node flags', () => {
  const start: string = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start
  assert.ok(start.includes(`node ${SIDECAR_NODE_FLAGS.join(' ')} dist/meshlink.mjs up`), start)
})
