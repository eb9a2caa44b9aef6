// Replays schemas/conformance/*.json against a real sidecar (the Python and Go bindings replay the same
// files). The format and the replay order are in schemas/conformance/README.md.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Dealer, Subscriber } from 'zeromq'
import { startSidecar, removeStateDir, waitFor, ROOT, type SidecarProcess } from '../helpers/sidecar-process.ts'
import * as validators from '../../sidecar/src/gen/validators.js'
import type { Validator } from '../../sidecar/src/gen/validators.js'

const dir = join(ROOT, 'schemas', 'conformance')
const fixtures = readdirSync(dir).filter(f => f.endsWith('.json')).sort()
const table = validators as unknown as Record<string, Validator>
const REPLY_TIMEOUT_MS = 10_000
const EVENTS_TIMEOUT_MS = 5_000
const STOP_TIMEOUT_MS = 15_000

let s: SidecarProcess | undefined
let dealer: Dealer | undefined
let sub: Subscriber | undefined
after(async () => { dealer?.close(); sub?.close(); await s?.stop(); if (s) removeStateDir(s.stateDir) })

/** Deep subset match: every key of `want` must be in `got` with a matching value. */
function assertSubset (got: unknown, want: unknown, path = ''): void {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    assert.ok(got !== null && typeof got === 'object', `${path || '/'} should be an object`)
    for (const [k, v] of Object.entries(want)) assertSubset((got as Record<string, unknown>)[k], v, `${path}/${k}`)
  } else assert.deepEqual(got, want, `${path || '/'} differs`)
}

/** {{name}} placeholders in every string, from the token and earlier fixtures' `save`. */
const vars = new Map<string, unknown>()
function subst (x: unknown): unknown {
  if (typeof x === 'string') {
    return x.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      assert.ok(vars.has(name), `placeholder {{${name}}} is used before any fixture saved it`)
      return String(vars.get(name))
    })
  }
  if (Array.isArray(x)) return x.map(subst)
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, subst(v)]))
  return x
}

/** RFC 6901 */
function pointer (doc: unknown, ptr: string): unknown {
  let cur = doc
  for (const raw of ptr.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    assert.ok(cur !== null && typeof cur === 'object' && key in cur, `save: ${ptr} is not in the result`)
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

/** Every event read is checked: envelope, data schema, seq one more than the previous one. */
let lastSeq: number | undefined
async function nextEvent (deadline: number): Promise<{ event: string, seq: number, data: unknown }> {
  const left = deadline - Date.now()
  if (left <= 0) throw Object.assign(new Error('timed out waiting for events'), { code: 'EAGAIN' })
  sub!.receiveTimeout = left
  const [topic, body] = await sub!.receive()
  const e = JSON.parse(body.toString('utf8'))
  assert.ok(validators.event(e), `event breaks envelope.json#/$defs/Event: ${body}`)
  assert.equal(topic.toString(), e.event, 'the topic frame names the event')
  const v = table[`event_${e.event.replace('.', '_')}`]
  assert.ok(v, `unknown event ${e.event}`)
  assert.ok(v(e.data), `${e.event} data breaks schemas/events/${e.event}.json: ${JSON.stringify(v.errors)}`)
  if (lastSeq !== undefined) assert.equal(e.seq, lastSeq + 1, `seq jumped from ${lastSeq} to ${e.seq}`)
  lastSeq = e.seq
  return e
}

test('there are conformance fixtures, and only the last one stops the sidecar', () => {
  assert.ok(fixtures.length >= 25)
  const stopping = fixtures.filter(f => JSON.parse(readFileSync(join(dir, f), 'utf8')).stops === true)
  assert.ok(stopping.length === 0 || (stopping.length === 1 && stopping[0] === fixtures.at(-1)), `stops: ${stopping.join(', ')}`)
})

for (const file of fixtures) {
  test(`conformance ${file}`, async () => {
    if (!s) {
      s = await startSidecar({ name: 'conformance' })
      vars.set('token', s.info.token)
      sub = new Subscriber({ linger: 0 })
      sub.connect(s.info.events)
      sub.subscribe()
      dealer = new Dealer({ linger: 0, receiveTimeout: REPLY_TIMEOUT_MS })
      dealer.connect(s.info.router)
      await new Promise(resolve => setTimeout(resolve, 200)) // let the subscription reach the PUB socket
    }
    assert.ok(s.proc.exitCode === null, 'the sidecar is not running (an earlier fixture stopped it?)')
    const fx = JSON.parse(readFileSync(join(dir, file), 'utf8'))
    const frame = fx.raw !== undefined ? subst(fx.raw) as string : JSON.stringify(subst(fx.request))
    await dealer!.send(frame)
    const [reply] = await dealer!.receive()
    const msg = JSON.parse(reply.toString())
    assert.ok(validators.response(msg), `reply breaks the response schema: ${reply}`)
    assert.deepEqual(msg.id, fx.expect.id, 'reply id')
    if (fx.expect.error) {
      assert.equal(msg.error?.code, fx.expect.error, `expected error ${fx.expect.error}, got ${reply}`)
      if (fx.expect.data) assertSubset(msg.error.data, subst(fx.expect.data), '/error/data')
    } else {
      assert.ok('result' in msg, `expected a result, got ${reply}`)
      const v = table[`result_${fx.expect.result.replace('.', '_')}`]
      assert.ok(v(msg.result), `result breaks schemas/methods/${fx.expect.result}.json: ${JSON.stringify(v.errors)}`)
      for (const [name, ptr] of Object.entries(fx.expect.save ?? {})) vars.set(name, pointer(msg.result, ptr as string))
      if (fx.expect.match) assertSubset(msg.result, subst(fx.expect.match), '/result')
    }
    const deadline = Date.now() + EVENTS_TIMEOUT_MS
    for (const want of fx.expect.events ?? []) {
      const match = subst(want.match ?? {})
      const seen: string[] = []
      for (;;) {
        let e
        try {
          e = await nextEvent(deadline)
        } catch (err) {
          if ((err as { code?: string }).code !== 'EAGAIN') throw err
          assert.fail(`no ${want.event} event matching ${JSON.stringify(match)} within ${EVENTS_TIMEOUT_MS} ms; saw ${seen.join('; ') || 'none'}`)
        }
        seen.push(`${e.event} ${JSON.stringify(e.data)}`)
        if (e.event !== want.event) continue
        try { assertSubset(e.data, match, `/${e.event}`) } catch { continue }
        break
      }
    }
    if (fx.stops === true) {
      const proc = s.proc
      await waitFor(() => proc.exitCode !== null || proc.signalCode !== null, 'the sidecar to exit after node.shutdown', STOP_TIMEOUT_MS)
      assert.equal(proc.exitCode, 0, 'node.shutdown ends the sidecar cleanly')
      assert.ok(!existsSync(join(s.stateDir, 'api.json')), 'api.json is removed on shutdown')
    }
  })
}
