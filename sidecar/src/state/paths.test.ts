import { test } from 'node:test'
import assert from 'node:assert/strict'
import { defaultStateDir, resolveStateDir } from './paths.ts'

test('the default state dir follows the platform convention', () => {
  assert.equal(defaultStateDir({ XDG_STATE_HOME: '/x/state' }, 'linux', '/home/a'), '/x/state/meshlink')
  assert.equal(defaultStateDir({}, 'linux', '/home/a'), '/home/a/.local/state/meshlink')
  assert.equal(defaultStateDir({ XDG_STATE_HOME: 'relative' }, 'linux', '/home/a'), '/home/a/.local/state/meshlink')
  assert.equal(defaultStateDir({}, 'darwin', '/Users/a'), '/Users/a/Library/Application Support/MeshLink')
  assert.match(defaultStateDir({ LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' }, 'win32', 'C:\\Users\\a'), /MeshLink$/)
})

test('flag beats $MESHLINK_STATE beats the default', () => {
  assert.equal(resolveStateDir('/flag', { MESHLINK_STATE: '/env' }), '/flag')
  assert.equal(resolveStateDir(undefined, { MESHLINK_STATE: '/env' }), '/env')
  assert.equal(resolveStateDir(undefined, { XDG_STATE_HOME: '/xdg' }), '/xdg/meshlink')
})
