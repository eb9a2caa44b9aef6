// The whole test suite, in order: generated files, types, build, unit, integration, lab (network
// namespaces), then whatever other suites exist. Prints one closing line "N passed, N failed, N skipped".
import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const node = process.execPath
const totals = { passed: 0, failed: 0, skipped: 0 }
const failures = []

function findTests (dir, pattern = /\.test\.ts$/) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(d => d.isFile() && pattern.test(d.name) && !d.parentPath.includes('node_modules') && !d.parentPath.includes(`${'/'}gen`))
    .map(d => join(d.parentPath, d.name)).sort()
}

/** Runs a command, echoing its output; counts node:test's closing "ℹ pass N" lines when asked. */
function run (label, cmd, args, { countTests = false, env = {} } = {}) {
  return new Promise((resolve) => {
    console.log(`\n=== ${label}: ${[cmd, ...args].map(a => a.replace(root + '/', '')).join(' ')}`)
    const p = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
    let tail = ''
    p.stdout.on('data', (d) => { process.stdout.write(d); tail = (tail + d.toString()).slice(-4000) })
    p.on('exit', (code) => {
      if (countTests) {
        // node:test's spec reporter ends with "ℹ pass N"; other suites print "N passed, N failed[, N skipped]"
        const plain = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/m.exec(tail)
        const fromPlain = { pass: plain?.[1], fail: plain?.[2], skipped: plain?.[3] }
        const n = (k) => Number((new RegExp(`ℹ ${k} (\\d+)`).exec(tail) ?? [])[1] ?? fromPlain[k] ?? 0)
        totals.passed += n('pass'); totals.failed += n('fail'); totals.skipped += n('skipped') + n('todo')
        if (code !== 0 && n('fail') === 0) { totals.failed += 1; failures.push(`${label} (exit ${code})`) } else if (n('fail') > 0) failures.push(label)
      } else if (code !== 0) { totals.failed += 1; failures.push(`${label} (exit ${code})`) } else totals.passed += 1
      resolve(code)
    })
  })
}

const testArgs = ['--test', '--test-reporter=spec', '--test-timeout=300000']
await run('generated protocol files match schemas/', node, ['scripts/gen-protocol.mjs', '--check'])
await run('typecheck', node, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'])
await run('build', node, ['esbuild.mjs'])
const unit = [...findTests(join(root, 'sidecar/src')), ...findTests(join(root, 'extension/src')), ...findTests(join(root, 'test/unit'))]
if (unit.length) await run('unit tests', node, [...testArgs, ...unit], { countTests: true })
const integration = findTests(join(root, 'test/integration'))
if (integration.length) await run('integration tests (real sidecar processes)', node, [...testArgs, '--test-concurrency=1', ...integration], { countTests: true })
const lab = findTests(join(root, 'test/lab'))
if (lab.length) await run('lab tests (network namespaces)', node, [...testArgs, '--test-concurrency=1', ...lab], { countTests: true })
for (const extra of ['scripts/test-extension.mjs', 'scripts/test-bindings.mjs']) {
  if (existsSync(join(root, extra))) await run(extra, node, [extra], { countTests: true })
}
console.log(`\n${failures.length ? 'FAILED: ' + failures.join('; ') : 'all suites passed'}`)
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
process.exitCode = totals.failed > 0 ? 1 : 0
