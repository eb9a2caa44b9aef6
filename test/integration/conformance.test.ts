// Replays schemas/conformance/*.json against a real sidecar (the bindings replay the same files).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Dealer } from 'zeromq'
import { startSidecar, removeStateDir, ROOT, type SidecarProcess } from '../helpers/sidecar-process.ts'
import * as validators from '../../sidecar/src/gen/validators.js'
import type { Validator } from '../../sidecar/src/gen/validators.js'

const dir = join(ROOT, 'schemas', 'conformance')
const fixtures = readdirSync(dir).filter(f => f.endsWith('.json')).sort()
let s: SidecarProcess | undefined
let dealer: Dealer | undefined
after(async () => { dealer?.close(); await s?.stop(); if (s) removeStateDir(s.stateDir) })

/** Deep subset match: every key of `want` must be in `got` with a matching value. */
function assertSubset (got: unknown, want: unknown, path = ''): void {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    assert.ok(got !== null && typeof got === 'object', `${path || '/'} should be an object`)
    for (const [k, v] of Object.entries(want)) assertSubset((got as Record<string, unknown>)[k], v, `${path}/${k}`)
  } else assert.deepEqual(got, want, `${path || '/'} differs`)
}

test('there are conformance fixtures', () => assert.ok(fixtures.length >= 15))

for (const file of fixtures) {
  test(`conformance ${file}`, async () => {
    if (!s) {
      s = await startSidecar({ name: 'conformance' })
      dealer = new Dealer({ linger: 0, receiveTimeout: 10_000 })
      dealer.connect(s.info.router)
    }
    const fx = JSON.parse(readFileSync(join(dir, file), 'utf8'))
    const frame = fx.raw ?? JSON.stringify(fx.request).replaceAll('{{token}}', s.info.token)
    await dealer!.send(frame)
    const [reply] = await dealer!.receive()
    const msg = JSON.parse(reply.toString())
    assert.ok(validators.response(msg), `reply breaks the response schema: ${reply}`)
    assert.deepEqual(msg.id, fx.expect.id, 'reply id')
    if (fx.expect.error) {
      assert.equal(msg.error?.code, fx.expect.error, `expected error ${fx.expect.error}, got ${reply}`)
      if (fx.expect.data) assertSubset(msg.error.data, fx.expect.data, '/error/data')
    } else {
      assert.ok('result' in msg, `expected a result, got ${reply}`)
      const v = (validators as unknown as Record<string, Validator>)[`result_${fx.expect.result.replace('.', '_')}`]
      assert.ok(v(msg.result), `result breaks schemas/methods/${fx.expect.result}.json: ${JSON.stringify(v.errors)}`)
      if (fx.expect.match) assertSubset(msg.result, fx.expect.match, '/result')
    }
  })
}
