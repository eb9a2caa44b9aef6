// The Python and Go bindings' tests, run by scripts/run-tests.mjs (`npm test`, CI) after the build.
// Sets up what they need on a fresh machine (a virtualenv in bindings/python/.venv with pyzmq, pytest
// and jsonschema from PyPI; the Go module download), then runs pytest and `go test` against real
// sidecars (dist/meshlink.mjs under this Node). A suite whose toolchain is missing (no python3 >= 3.10,
// no go >= 1.22) is reported as skipped with the reason, never passed. Last line:
// "N passed, N failed, N skipped" over both suites; exit 1 on any failure.
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const py = join(root, 'bindings', 'python')
const go = join(root, 'bindings', 'go')
const venv = join(py, '.venv')
const venvPython = join(venv, process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python')
const SUITE_TIMEOUT_MS = 12 * 60_000
const totals = { passed: 0, failed: 0, skipped: 0 }
const notes = []

const log = (s) => process.stdout.write(s + '\n')

/** Runs a command with a bounded time; resolves { code, out } (stdout+stderr, also echoed when `echo`). */
function run (cmd, args, { cwd = root, env = {}, echo = true, timeoutMs = SUITE_TIMEOUT_MS, filter } = {}) {
  return new Promise((resolve) => {
    let out = ''
    let p
    try {
      p = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (err) {
      resolve({ code: -1, out: String(err) })
      return
    }
    const timer = setTimeout(() => { out += `\n(killed after ${timeoutMs / 1000} s)\n`; p.kill('SIGKILL') }, timeoutMs)
    const onData = (d) => {
      const s = d.toString()
      out += s
      if (echo) process.stdout.write(filter ? filter(s) : s)
    }
    p.stdout.on('data', onData)
    p.stderr.on('data', onData)
    p.on('error', (err) => { out += String(err) })
    p.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, out }) })
  })
}

function skip (suite, why) {
  totals.skipped += 1
  notes.push(`${suite}: SKIPPED (${why})`)
  log(`\n${suite}: SKIPPED: ${why}`)
}
function setupFailed (suite, why) {
  totals.failed += 1
  notes.push(`${suite}: FAILED to set up (${why})`)
  log(`\n${suite}: FAILED to set up: ${why}`)
}

// ---- 0. generated files, and the sidecar the tests start
log('=== bindings: generated files match schemas/')
const gen = await run(process.execPath, [join(root, 'bindings', 'gen', 'gen-bindings.mjs'), '--check'])
if (gen.code === 0) totals.passed += 1
else { totals.failed += 1; notes.push('generated files are stale (npm run gen:bindings)') }
const bundle = join(root, 'dist', 'meshlink.mjs')
if (!existsSync(bundle)) {
  log('dist/meshlink.mjs is missing: building it')
  spawnSync(process.execPath, [join(root, 'esbuild.mjs')], { cwd: root, stdio: 'inherit' })
}
const sidecarEnv = { MESHLINK_NODE: process.execPath, MESHLINK_SIDECAR: bundle }

// ---- 1. Python
async function python () {
  const suite = 'python (pytest)'
  log(`\n=== ${suite}`)
  const candidates = [process.env.PYTHON, 'python3', 'python'].filter(Boolean)
  let python
  for (const c of candidates) {
    const r = spawnSync(c, ['-c', 'import sys; print(sys.version_info >= (3, 10))'], { encoding: 'utf8' })
    if (r.status === 0 && r.stdout.trim() === 'True') { python = c; break }
  }
  if (!python) return skip(suite, 'no python3 >= 3.10 on PATH (set PYTHON to use another)')
  // the venv is rebuilt when pyproject.toml changes (its dependencies) or when it is broken
  const stampFile = join(venv, '.meshlink-stamp')
  const stamp = createHash('sha256').update(readFileSync(join(py, 'pyproject.toml'))).digest('hex')
  const healthy = existsSync(venvPython) && spawnSync(venvPython, ['-c', 'import zmq, pytest, jsonschema, meshlink'], { cwd: py }).status === 0
  if (!healthy || !existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
    log(`setting up ${venv.replace(root + '/', '')} (pyzmq, pytest, jsonschema from PyPI)`)
    rmSync(venv, { recursive: true, force: true })
    const mk = await run(python, ['-m', 'venv', venv])
    if (mk.code !== 0) {
      // e.g. Debian's python3 without python3-venv: the toolchain is incomplete, not the binding broken
      return /ensurepip|venv/i.test(mk.out) ? skip(suite, `${python} -m venv does not work here (install python3-venv)`) : setupFailed(suite, 'python -m venv failed')
    }
    const pip = await run(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-e', '.[test]'], { cwd: py })
    if (pip.code !== 0) return setupFailed(suite, 'pip install -e .[test] failed')
    writeFileSync(stampFile, stamp)
  }
  const r = await run(venvPython, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-o', 'console_output_style=classic', 'tests'], { cwd: py, env: sidecarEnv })
  const summary = r.out.trim().split('\n').reverse().find(l => /\d+ (passed|failed|error|skipped)/.test(l)) ?? ''
  const n = (k) => [...summary.matchAll(new RegExp(`(\\d+) ${k}`, 'g'))].reduce((a, m) => a + Number(m[1]), 0)
  const counts = { passed: n('passed'), failed: n('failed') + n('errors?'), skipped: n('skipped') }
  if (r.code !== 0 && counts.failed === 0) counts.failed = 1 // e.g. exit 5: no tests collected, or a crash
  add(suite, counts)
}

// ---- 2. Go
async function golang () {
  const suite = 'go (go test)'
  log(`\n=== ${suite}`)
  const goBin = [process.env.GO, 'go', '/usr/local/go/bin/go'].filter(Boolean).find(g => spawnSync(g, ['version'], { encoding: 'utf8' }).status === 0)
  if (!goBin) return skip(suite, 'no go toolchain on PATH (set GO to use another)')
  const v = /go(\d+)\.(\d+)/.exec(spawnSync(goBin, ['version'], { encoding: 'utf8' }).stdout ?? '')
  if (!v || Number(v[1]) < 1 || (Number(v[1]) === 1 && Number(v[2]) < 22)) return skip(suite, `needs go >= 1.22, found ${v?.[0] ?? 'unknown'}`)
  const env = { ...sidecarEnv, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' }
  const dl = await run(goBin, ['mod', 'download'], { cwd: go, env })
  if (dl.code !== 0) return setupFailed(suite, 'go mod download failed')
  // -json for exact counts (subtests included); the human-readable lines are echoed as they come
  const counts = { passed: 0, failed: 0, skipped: 0 }
  let pending = ''
  const r = await run(goBin, ['test', '-count=1', '-timeout', '600s', '-json', './...'], {
    cwd: go,
    env,
    filter: (chunk) => {
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop()
      let shown = ''
      for (const line of lines) {
        let e
        try { e = JSON.parse(line) } catch { shown += line + '\n'; continue }
        if (e.Test && e.Action === 'pass') counts.passed++
        if (e.Test && e.Action === 'fail') counts.failed++
        if (e.Test && e.Action === 'skip') counts.skipped++
        if (e.Action === 'output' && (!e.Test || /--- (FAIL|SKIP)|_test\.go:\d+|^\s+\S/.test(e.Output) || /^(ok|FAIL|PASS)\b/.test(e.Output))) {
          if (!/^=== (RUN|PAUSE|CONT)|^--- PASS/.test(e.Output.trimStart())) shown += e.Output
        }
      }
      return shown
    }
  })
  if (r.code !== 0 && counts.failed === 0) counts.failed = 1 // a build error or panic outside a test
  add(suite, counts)
}

function add (suite, c) {
  totals.passed += c.passed; totals.failed += c.failed; totals.skipped += c.skipped
  // worded so that only the closing line reads "N passed, N failed" (run-tests.mjs takes the first such line)
  notes.push(`${suite}: passed ${c.passed}, failed ${c.failed}, skipped ${c.skipped}`)
}

await python()
await golang()
log('\n=== bindings summary')
for (const n of notes) log(`  ${n}`)
log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
process.exitCode = totals.failed > 0 ? 1 : 0
