import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import { decodeInvite, encodeInvite, InvalidInviteError, INVITE_PREFIX, type Invite } from './invite.ts'

const PEER = '12D3KooWE375tVtuQRoyuvDUhkVdoYZRb3oheW9sJujMadWmXNZc'
const sample = (): Invite => ({ meshName: "alice's team", secret: randomBytes(32), inviter: PEER, addrs: ['/ip4/192.168.1.7/tcp/4455', '/ip4/127.0.0.1/tcp/4455'] })

/** Builds a code around an arbitrary body (with a valid checksum) to reach the payload checks. */
function craft (version: number, payload: unknown): string {
  const body = Buffer.concat([Buffer.from([version]), Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload))])
  const sum = createHash('sha256').update(body).digest().subarray(0, 4)
  return INVITE_PREFIX + base58btc.baseEncode(Buffer.concat([body, sum]))
}

const rejects = (code: string, re: RegExp): void => {
  assert.throws(() => decodeInvite(code), (err: Error) => err instanceof InvalidInviteError && re.test(err.message), `expected ${re} for ${code.slice(0, 40)}`)
}

test('an invite round-trips', () => {
  const inv = sample()
  const code = encodeInvite(inv)
  assert.match(code, /^ML1[1-9A-HJ-NP-Za-km-z]+$/)
  const back = decodeInvite(code)
  assert.equal(back.meshName, inv.meshName)
  assert.deepEqual(Buffer.from(back.secret), Buffer.from(inv.secret))
  assert.equal(back.inviter, PEER)
  assert.deepEqual(back.addrs, inv.addrs)
})

test('whitespace and line breaks from copy-paste are ignored', () => {
  const code = encodeInvite(sample())
  const wrapped = `  ${code.slice(0, 50)}\n${code.slice(50, 120)}\r\n ${code.slice(120)}\t`
  assert.equal(decodeInvite(wrapped).inviter, PEER)
})

test('every truncation of a code is rejected with a clear reason', () => {
  const code = encodeInvite(sample())
  for (let len = 0; len < code.length; len++) {
    assert.throws(() => decodeInvite(code.slice(0, len)), InvalidInviteError, `length ${len}`)
  }
  rejects(code.slice(0, -5), /truncated or altered|truncated/)
})

test('a changed character fails the checksum', () => {
  const code = encodeInvite(sample())
  const i = 60
  const altered = code.slice(0, i) + (code[i] === 'z' ? 'y' : 'z') + code.slice(i + 1)
  rejects(altered, /checksum/)
})

test('wrong prefix, other versions, non-base58 characters', () => {
  rejects('', /empty/)
  rejects('hello world', /not a MeshLink invite/)
  rejects('ML2abc', /format ML2 is not supported/)
  rejects('ML1abc0OIl', /base58/)
  rejects('ML1', /truncated/)
})

test('payload checks name the field', () => {
  const good = { n: 'team', s: Buffer.alloc(32, 1).toString('base64url'), p: PEER, a: ['/ip4/10.0.0.1/tcp/1'] }
  assert.equal(decodeInvite(craft(1, good)).meshName, 'team')
  rejects(craft(2, good), /payload version 2/)
  rejects(craft(1, '{not json'), /not valid JSON/)
  rejects(craft(1, [1, 2]), /no valid mesh name|not an object/)
  rejects(craft(1, { ...good, n: '' }), /mesh name/)
  rejects(craft(1, { ...good, n: 'a\u0007b' }), /mesh name/)
  rejects(craft(1, { ...good, s: Buffer.alloc(16).toString('base64url') }), /16 bytes, expected 32/)
  rejects(craft(1, { ...good, s: 5 }), /secret/)
  rejects(craft(1, { ...good, p: 'not-a-peer' }), /not a valid peer id/)
  rejects(craft(1, { ...good, a: 'x' }), /address list/)
  rejects(craft(1, { ...good, a: ['garbage'] }), /not a valid multiaddr/)
  rejects(craft(1, { ...good, a: [7] }), /not a string/)
})
