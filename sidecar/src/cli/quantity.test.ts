import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseByteQuantity } from './quantity.ts'
import { UsageError } from './exit-codes.ts'

test('byte quantities: plain bytes, SI and binary units, rates', () => {
  assert.equal(parseByteQuantity('1048576', '--cap'), 1048576)
  assert.equal(parseByteQuantity('500k', '--cap'), 500_000)
  assert.equal(parseByteQuantity('20GB', '--cap'), 20e9)
  assert.equal(parseByteQuantity('512MiB', '--cap'), 512 * 2 ** 20)
  assert.equal(parseByteQuantity('10MB/s', '--max-upload'), 10e6)
  assert.equal(parseByteQuantity('1.5g', '--cap'), 1.5e9)
  assert.equal(parseByteQuantity(' 4 KiB ', '--cap'), 4096)
})

test('byte quantities: bad input names the flag and the text', () => {
  for (const bad of ['', '0', '-5', 'abc', '12 parsecs', '1.5', '10XB', '1e3', 'NaN', '99999999999T']) {
    assert.throws(() => parseByteQuantity(bad, '--max-upload'), (err: Error) =>
      err instanceof UsageError && err.message.includes('--max-upload') && err.message.includes(`"${bad}"`), bad)
  }
})
