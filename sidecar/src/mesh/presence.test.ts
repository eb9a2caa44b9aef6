import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseHello, BadHelloError } from './presence.ts'

const enc = (o: unknown): Uint8Array => new TextEncoder().encode(typeof o === 'string' ? o : JSON.stringify(o))

test('a valid hello parses and drops unknown fields', () => {
  assert.deepEqual(parseHello(enc({ v: 1, name: 'bob@box', version: '0.1.0', extra: 1 })), { v: 1, name: 'bob@box', version: '0.1.0' })
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
    [enc({ v: 1, name: 'x', version: 3 }), /version/]
  ]
  for (const [bytes, re] of bad) assert.throws(() => parseHello(bytes), (e: Error) => e instanceof BadHelloError && re.test(e.message))
})
