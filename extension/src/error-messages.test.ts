import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ERROR_CODES } from '../../sidecar/src/gen/protocol-types.ts'
import { MeshlinkError } from '../../sidecar/src/client/client.ts'
import { describeError, InputError, TransferFailedError } from './error-messages.ts'
import { format } from './l10n.ts'
import { NodeTooOldError, SidecarNotFoundError } from './sidecar/resolve.ts'
import { SidecarDownError, SidecarExitedError } from './sidecar/errors.ts'
import { InvalidInviteCodeError } from './invite-code.ts'

test('every protocol error code has its own message, with the sidecar\'s detail', () => {
  const seen = new Set<string>()
  for (const code of ERROR_CODES) {
    const d = describeError(new MeshlinkError({ code, message: 'DETAIL-' + code }), format)
    assert.equal(d.code, code)
    assert.doesNotMatch(d.message, /^MeshLink failed/, code)
    assert.doesNotMatch(d.message, /\{\d\}/, code)
    seen.add(d.message.replace(/DETAIL-\w+/, ''))
  }
  assert.equal(seen.size, ERROR_CODES.length, 'two codes share a message')
})

test('the mapping switches on the code, not the message', () => {
  const a = describeError(new MeshlinkError({ code: 'INVALID_INVITE', message: 'peer unreachable' }), format)
  assert.match(a.message, /not a valid MeshLink invite code: peer unreachable/)
  assert.deepEqual(a.remedies, [])
  const b = describeError(new MeshlinkError({ code: 'INTERNAL', message: 'invalid invite' }), format)
  assert.match(b.message, /sidecar failed/)
  assert.deepEqual(b.remedies, [{ kind: 'showLogs' }])
})

test('Node too old: says what to set', () => {
  const host = describeError(new NodeTooOldError('/vscode/electron', '20.18.1', false), format)
  assert.match(host.message, /Node\.js 20\.18\.1.*22 or newer.*1\.101.*meshlink\.sidecar\.nodePath/)
  assert.deepEqual(host.remedies, [{ kind: 'openSetting', setting: 'meshlink.sidecar.nodePath' }])
  const setting = describeError(new NodeTooOldError('/usr/bin/node', '18.0.0', true), format)
  assert.match(setting.message, /meshlink\.sidecar\.nodePath points to Node\.js 18\.0\.0 \(\/usr\/bin\/node\)/)
})

test('missing sidecar: names the variable or setting', () => {
  assert.match(describeError(new SidecarNotFoundError('/x', 'MESHLINK_SIDECAR'), format).message, /MESHLINK_SIDECAR environment variable points to \/x/)
  const s = describeError(new SidecarNotFoundError('/y', 'meshlink.sidecar.path'), format)
  assert.match(s.message, /meshlink\.sidecar\.path points to \/y/)
  assert.deepEqual(s.remedies, [{ kind: 'openSetting', setting: 'meshlink.sidecar.path' }])
  assert.match(describeError(new SidecarNotFoundError('/ext/dist/meshlink.mjs', undefined), format).message, /bundled MeshLink sidecar is missing/)
})

test('sidecar down or crashed: offers a restart and the logs', () => {
  const down = describeError(new SidecarDownError('it is stopped'), format)
  assert.match(down.message, /not running: it is stopped/)
  assert.deepEqual(down.remedies, [{ kind: 'startSidecar' }, { kind: 'showLogs' }])
  assert.deepEqual(describeError(new SidecarExitedError(1, null, 'boom'), format).remedies, [{ kind: 'restartSidecar' }, { kind: 'showLogs' }])
})

test('input errors are shown as they are; anything else still reads well', () => {
  assert.equal(describeError(new InputError('Use 1 to 64 characters.'), format).message, 'Use 1 to 64 characters.')
  assert.match(describeError(new InvalidInviteCodeError('MeshLink invite codes start with ML1.'), format).message, /not a valid MeshLink invite code: MeshLink invite codes start with ML1/)
  assert.match(describeError('weird', format).message, /MeshLink failed: weird/)
  assert.match(describeError(new TypeError('x'), format).message, /MeshLink failed: x/)
})

test('services and forwards: the four codes get messages that say what happened, per method', () => {
  const e = (code: 'FORBIDDEN' | 'CONFLICT' | 'NOT_FOUND' | 'PEER_UNREACHABLE', message: string): MeshlinkError => new MeshlinkError({ code, message })
  assert.equal(describeError(e('FORBIDDEN', 'bob does not allow this node to use "web"'), format, 'forwards.open').message,
    'The host does not allow this machine to use that service (bob does not allow this node to use "web"). Ask them to share it with you.')
  assert.match(describeError(e('CONFLICT', 'cannot listen on 127.0.0.1:3000: the port is in use'), format, 'forwards.open').message, /^The local port is taken \(cannot listen on 127\.0\.0\.1:3000: the port is in use\)/)
  assert.match(describeError(e('NOT_FOUND', 'bob shares no service "web"'), format, 'forwards.open').message, /^The host no longer shares that service/)
  assert.match(describeError(e('PEER_UNREACHABLE', 'bob is offline'), format, 'forwards.open').message, /^The host is offline or cannot be reached \(bob is offline\)/)
  assert.match(describeError(e('NOT_FOUND', 'no member has the name "zed"'), format, 'services.share').message, /^One of the allowed members is not in this mesh/)
  assert.match(describeError(e('CONFLICT', 'at most 64 services can be shared'), format, 'services.share').message, /^This machine cannot share another service/)
  assert.match(describeError(e('NOT_FOUND', 'no service "web"'), format, 'services.unshare').message, /no longer shares that service/)
  assert.match(describeError(e('NOT_FOUND', 'no forward with id x'), format, 'forwards.close').message, /already closed/)
  // other methods, and codes without a specific message, keep the general one
  assert.match(describeError(e('NOT_FOUND', 'x'), format, 'peers.ping').message, /^Not found: x/)
  assert.match(describeError(e('FORBIDDEN', 'x'), format, 'services.share').message, /^Not allowed: x/)
})

test('artifacts: method codes and failed transfers get messages that say what happened', () => {
  const e = (code: 'CONFLICT' | 'NOT_FOUND' | 'PEER_UNREACHABLE', message: string): MeshlinkError => new MeshlinkError({ code, message })
  assert.match(describeError(e('CONFLICT', '/tmp/out is not empty'), format, 'artifacts.fetch').message, /^The destination folder is not empty \(\/tmp\/out is not empty\)\. Choose an empty or new folder\.$/)
  assert.match(describeError(e('PEER_UNREACHABLE', 'its holders are offline'), format, 'artifacts.fetch').message, /^The members that hold that artifact are offline/)
  assert.match(describeError(e('CONFLICT', 'a fetch uses it'), format, 'artifacts.remove').message, /Cancel the transfer first/)
  const unsafe = describeError(new TransferFailedError('UNSAFE_MANIFEST', 'fetch', 'path "../x" leaves the output.'), format)
  assert.equal(unsafe.code, 'UNSAFE_MANIFEST')
  assert.match(unsafe.message, /^refused: its file list has absolute paths.*nothing was written \(path "\.\.\/x" leaves the output\)\.$/)
  assert.deepEqual(unsafe.remedies, [])
  const disk = describeError(new TransferFailedError('NO_SPACE', 'fetch', ''), format)
  assert.match(disk.message, /^the disk is full; nothing was left in the destination folder/)
  assert.deepEqual(describeError(new TransferFailedError('IO_ERROR', 'publish', 'EACCES'), format).remedies, [{ kind: 'showLogs' }])
})
