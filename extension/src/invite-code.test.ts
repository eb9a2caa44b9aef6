import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { encodeInvite, INVITE_PREFIX as SIDECAR_PREFIX } from '../../sidecar/src/mesh/invite.ts'
import { checkInviteCode, INVITE_PREFIX, normalizeInviteCode } from './invite-code.ts'
import { format } from './l10n.ts'

test('the prefix matches the sidecar\'s invite format', () => {
  assert.equal(INVITE_PREFIX, SIDECAR_PREFIX)
})

test('a real invite code passes, also with line breaks a chat tool added', () => {
  const code = encodeInvite({ meshName: 'team', secret: randomBytes(32), inviter: '12D3KooWGzh8b7dRnSgaWvpJxk4h9W1Tpq1YhNKcFZ8bs7PCNiT4', addrs: ['/ip4/127.0.0.1/tcp/4455'] })
  assert.equal(checkInviteCode(code, format), undefined)
  const wrapped = code.slice(0, 30) + '\n  ' + code.slice(30)
  assert.equal(checkInviteCode(wrapped, format), undefined)
  assert.equal(normalizeInviteCode(wrapped), code)
})

test('what is visibly wrong is named', () => {
  assert.match(checkInviteCode('   ', format)!, /Paste the invite code/)
  assert.match(checkInviteCode('hello', format)!, /start with ML1/)
  assert.match(checkInviteCode('ML2abc', format)!, /format ML2/)
  assert.match(checkInviteCode('ML1abc0OIl', format)!, /characters that cannot be in one \(0 O I l\)/)
  assert.match(checkInviteCode('ML1abc', format)!, /too short/)
})
