// Generates the Python and Go bindings' models, method stubs and error types from schemas/ (the single
// source of truth), as scripts/gen-protocol.mjs does for TypeScript. Everything is derived from the
// schema files: a new methods/<m>.json or events/<e>.json shows up in both bindings on regeneration.
//   node bindings/gen/gen-bindings.mjs            write the generated files
//   node bindings/gen/gen-bindings.mjs --check    fail (exit 1) when the committed files differ
//   --schemas DIR                                  read another schemas/ (e.g. an export of HEAD)
import { readFileSync, writeFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join, dirname, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { loadModel } from './schema-model.mjs'
import { emitPython } from './emit-python.mjs'
import { emitGo } from './emit-go.mjs'

const root = join(import.meta.dirname, '..', '..')
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false }, schemas: { type: 'string' } } })
const model = loadModel(values.schemas ?? join(root, 'schemas'))

const targets = [
  { dir: join(root, 'bindings', 'python', 'src', 'meshlink', 'gen'), files: emitPython(model), owns: (f) => f.endsWith('.py') },
  { dir: join(root, 'bindings', 'go'), files: emitGo(model), owns: (f) => f.endsWith('_gen.go') }
]

const stale = []
for (const { dir, files, owns } of targets) {
  mkdirSync(dir, { recursive: true })
  // a generated file whose schema went away is stale too
  for (const f of readdirSync(dir).filter(owns)) {
    if (f in files) continue
    if (values.check) stale.push(relative(root, join(dir, f)) + ' (no longer generated)')
    else rmSync(join(dir, f))
  }
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name)
    let old = null
    try { old = readFileSync(path, 'utf8') } catch {}
    if (old === content) continue
    if (values.check) stale.push(relative(root, path))
    else { mkdirSync(dirname(path), { recursive: true }); writeFileSync(path, content) }
  }
}
if (values.check && stale.length) {
  console.error(`the bindings' generated files are out of date with schemas/: ${stale.join(', ')}\nrun \`npm run gen:bindings\` and commit the result`)
  process.exit(1)
}
const n = targets.reduce((a, t) => a + Object.keys(t.files).length, 0)
console.log(values.check
  ? `bindings' generated files are up to date (${model.methods.length} methods, ${model.events.length} events)`
  : `generated ${n} files for ${model.methods.length} methods, ${model.events.length} events`)
