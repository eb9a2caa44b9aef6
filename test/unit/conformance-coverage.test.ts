// Every method in schemas/methods/ must have a conformance fixture that calls it (so a new method cannot
// land without one), and every fixture must follow the format of schemas/conformance/README.md.
// Reads the schema files themselves (not the generated code), so it speaks up before `npm run gen`.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const schemas = join(root, 'schemas')
const titles = (sub: string): string[] => readdirSync(join(schemas, sub)).filter(f => f.endsWith('.json'))
  .map(f => JSON.parse(readFileSync(join(schemas, sub, f), 'utf8')).title as string)
const methods = titles('methods')
const events = new Set(titles('events'))
const codes = new Set(JSON.parse(readFileSync(join(schemas, 'types', 'error-code.json'), 'utf8')).enum as string[])
const dir = join(schemas, 'conformance')
const files = readdirSync(dir).filter(f => f.endsWith('.json')).sort()
const fixtures = files.map(f => ({ file: f, fx: JSON.parse(readFileSync(join(dir, f), 'utf8')) }))

test('every method in schemas/methods has a conformance fixture that calls it', () => {
  const called = new Set(fixtures.map(({ fx }) => fx.request?.method).filter(Boolean))
  const missing = methods.filter(m => !called.has(m))
  assert.deepEqual(missing, [], `no fixture in schemas/conformance calls ${missing.join(', ')}: add success and error cases (format: schemas/conformance/README.md)`)
})

test('every fixture follows the format in schemas/conformance/README.md', () => {
  const defined = new Set(['token'])
  const placeholders = (x: unknown): string[] => [...JSON.stringify(x ?? null).matchAll(/\{\{(\w+)\}\}/g)].map(m => m[1])
  const undefinedIn = (x: unknown): string[] => placeholders(x).filter(p => !defined.has(p))
  for (const [i, { file, fx }] of fixtures.entries()) {
    const where = `schemas/conformance/${file}`
    for (const k of Object.keys(fx)) assert.ok(['description', 'request', 'raw', 'stops', 'expect'].includes(k), `${where}: unknown field ${k}`)
    assert.equal(typeof fx.description, 'string', `${where}: description`)
    assert.ok((fx.request === undefined) !== (fx.raw === undefined), `${where}: exactly one of request and raw`)
    const e = fx.expect
    assert.ok(e && typeof e === 'object', `${where}: expect`)
    for (const k of Object.keys(e)) assert.ok(['id', 'error', 'data', 'result', 'match', 'save', 'events'].includes(k), `${where}: unknown field expect.${k}`)
    assert.ok('id' in e, `${where}: expect.id`)
    assert.ok((e.error === undefined) !== (e.result === undefined), `${where}: exactly one of expect.error and expect.result`)
    if (e.error !== undefined) {
      assert.ok(codes.has(e.error), `${where}: ${e.error} is not in types/error-code.json`)
      assert.ok(e.match === undefined && e.save === undefined, `${where}: match and save go with result`)
    } else {
      assert.equal(e.result, fx.request?.method, `${where}: expect.result names the method called`)
      assert.ok(e.data === undefined, `${where}: data goes with error`)
    }
    if (fx.stops !== undefined) {
      assert.equal(fx.stops, true, `${where}: stops is true or absent`)
      assert.equal(i, fixtures.length - 1, `${where}: a fixture that stops the sidecar must sort last`)
    }
    assert.deepEqual(undefinedIn(fx.request ?? fx.raw), [], `${where}: request uses placeholders no earlier fixture saved`)
    assert.deepEqual(undefinedIn([e.data, e.match]), [], `${where}: expect uses placeholders no earlier fixture saved`)
    for (const [name, ptr] of Object.entries(e.save ?? {})) {
      assert.match(String(ptr), /^(\/[^/]*)+$/, `${where}: save.${name} is a JSON pointer`)
      defined.add(name)
    }
    for (const ev of e.events ?? []) {
      assert.ok(events.has(ev.event), `${where}: ${ev.event} is not in schemas/events`)
      assert.deepEqual(undefinedIn(ev.match), [], `${where}: events use placeholders nothing saved`)
    }
  }
})
