import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseHello, BadHelloError } from './presence.ts'

const enc = (o: unknown): Uint8Array => new TextEncoder().encode(typeof o === 'string' ? o : JSON.stringify(o))

test('a valid hello parses and drops unknown fields', () => {
  assert.deepEqual(parseHello(enc({ v: 1, name: 'bob@box', version: '0.1.0', extra: 1 })), { v: 1, name: 'bob@box', version: '0.1.0', peers: [] })
  const id = '12D3KooWE375tVtuQRoyuvDUhkVdoYZRb3oheW9sJujMadWmXNZc'
  assert.deepEqual(parseHello(enc({ v: 1, name: 'b', version: '1', peers: [{ id, addrs: ['/ip4/10.0.0.2/tcp/4455'] }] })).peers, [{ id, addrs: ['/ip4/10.0.0.2/tcp/4455'] }])
})

test('bad hellos from peers are rejected with a reason', () => {
  const bad: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array([0xff, 0xfe]), /UTF-8 JSON/],
    [enc('nope'), /UTF-8 JSON/],
    [enc([1]), /not an object/],
    [enc({ v: 2, name: 'x', version: '1' }), /version 2/],
    [enc({ v: 1, name: '', version: '1' }), /name/],
    [enc({ v: 1, name: 'x'.repeat(65), version: '1' }), /name/],
    [enc({ v: 1, name: 'a\nb', version: '1' }), /name/],
    [enc({ v: 1, name: 'x', version: 3 }), /version/],
    [enc({ v: 1, name: 'x', version: '1', peers: 'all' }), /peers must be a list/],
    [enc({ v: 1, name: 'x', version: '1', peers: Array.from({ length: 65 }, () => ({ id: 'x', addrs: [] })) }), /at most 64/],
    [enc({ v: 1, name: 'x', version: '1', peers: [{ id: 'not-an-id', addrs: [] }] }), /valid id/],
    [enc({ v: 1, name: 'x', version: '1', peers: [{ id: '12D3KooWE375tVtuQRoyuvDUhkVdoYZRb3oheW9sJujMadWmXNZc', addrs: ['nope'] }] }), /valid addresses/]
  ]
  for (const [bytes, re] of bad) assert.throws(() => parseHello(bytes), (e: Error) => e instanceof BadHelloError && re.test(e.message))
})
