// The extension's end-to-end suite in a real VS Code extension host (code-server + headless
// Chromium; shared/VSCODE_HOST.md says why). Two runs:
//   dev        the extension from this folder: the full scenario of issue 3
//   installed  the linux-x64 .vsix, installed into the server like a user would: it activates and
//              runs its packaged sidecar and zeromq addon
// Installs what it needs on a fresh machine (chromium with apt-get; Node 24 and code-server from
// npm into ~/.cache/meshlink-vscode-host, reused). When something cannot be installed the suite is
// reported as skipped, with the reason. Last line: "N passed, N failed, N skipped".
// The suite itself (test/e2e/suite/index.ts) exports run() and also runs under @vscode/test-electron:
//   runTests({ extensionDevelopmentPath: <repo>, extensionTestsPath: <repo>/test-output/e2e/suite/index.cjs })
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { arch, platform, tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { ensureHostTools, HostUnavailableError } from '../test/e2e/runner/host-tools.mjs'
import { runSuiteInCodeServer } from '../test/e2e/runner/code-server.mjs'

const root = join(import.meta.dirname, '..')
const out = join(root, 'test-output', 'e2e')
/** Tests per run, for the skipped count when the host is unavailable. */
const TESTS = { dev: 10, installed: 1 }
const totals = { passed: 0, failed: 0, skipped: 0 }
const problems = []

function finish () {
  console.log(problems.length ? `\ne2e problems:\n- ${problems.join('\n- ')}` : '\ne2e: all runs passed')
  console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
  process.exit(totals.failed > 0 ? 1 : 0)
}

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

// 1. the extension and sidecar bundles, and the suite as one CommonJS module
const b = spawnSync(process.execPath, [join(root, 'esbuild.mjs')], { cwd: root, stdio: 'inherit' })
if (b.status !== 0) { problems.push('esbuild.mjs failed'); totals.failed++; finish() }
const suite = join(out, 'suite', 'index.cjs')
await build({
  entryPoints: [join(root, 'test/e2e/suite/index.ts')],
  outfile: suite,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  sourcemap: 'inline',
  external: ['vscode', 'mocha', 'zeromq'],
  logLevel: 'warning'
})

// 2. the host: chromium, Node 24, code-server
let tools
try {
  tools = ensureHostTools()
} catch (err) {
  if (!(err instanceof HostUnavailableError)) throw err
  console.log(`\nSKIPPED the e2e suite: ${err.message}`)
  totals.skipped += TESTS.dev + TESTS.installed
  problems.push(`skipped: ${err.message}`)
  finish()
}

const workspace = join(out, 'workspace')
mkdirSync(workspace, { recursive: true })
writeFileSync(join(workspace, 'README.md'), '# MeshLink e2e workspace\n')

function settings (stateDir) {
  return {
    // loopback only, no multicast: the suite sends nothing off this machine
    'meshlink.stateDir': stateDir,
    'meshlink.mdns': false,
    'meshlink.listenAddresses': ['/ip4/127.0.0.1/tcp/0'],
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'security.workspace.trust.enabled': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'git.enabled': false,
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'github.gitAuthentication': false
  }
}

async function runPhase (label, opts, expected) {
  const stateDir = join(tmpdir(), `ml-e2e-state-${label}-${process.pid}`)
  rmSync(stateDir, { recursive: true, force: true })
  console.log(`\n=== e2e (${label}) in code-server, VS Code extension host`)
  const started = Date.now()
  const r = await runSuiteInCodeServer({ tools, label, workspace, outputDir: out, extensionTestsPath: suite, settings: settings(stateDir), ...opts })
  rmSync(stateDir, { recursive: true, force: true })
  console.log(`  [${label}] exit ${r.exitCode}, ${r.passed} passed, ${r.failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s${Object.keys(r.metrics).length ? `; ${Object.entries(r.metrics).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}`)
  totals.passed += r.passed
  totals.failed += r.failed
  totals.skipped += r.pending
  if (r.error) problems.push(`${label}: ${r.error}`)
  if (r.failed > 0) problems.push(`${label}: ${r.failed} failed (logs and screenshots in ${out})`)
  const ran = r.passed + r.failed + r.pending
  if ((r.error || r.exitCode !== 0) && r.failed === 0) { totals.failed += Math.max(1, expected - ran); problems.push(`${label}: the run did not complete (exit ${r.exitCode}); see ${out}/${label}-*.log`) }
}

await runPhase('dev', { extensionDevelopmentPath: root }, TESTS.dev)

// 3. the linux-x64 package, installed like a user would
if (platform() === 'linux' && arch() === 'x64') {
  const vsixDir = join(out, 'vsix')
  const p = spawnSync(process.execPath, [join(root, 'scripts/package-vsix.mjs'), '--target', 'linux-x64', '--out', vsixDir, '--no-build'], { cwd: root, stdio: 'inherit' })
  const vsix = p.status === 0 ? readdirSync(vsixDir).find(f => f.endsWith('.vsix')) : undefined
  if (!vsix) {
    problems.push('installed: packaging the linux-x64 .vsix failed')
    totals.failed += TESTS.installed
  } else {
    await runPhase('installed', { extensionDevelopmentPath: join(root, 'test/e2e/harness'), installVsix: join(vsixDir, vsix), env: { MESHLINK_E2E_MODE: 'installed' } }, TESTS.installed)
  }
} else {
  console.log(`\nSKIPPED the installed-.vsix run: it installs the linux-x64 package, and this is ${platform()}-${arch()}`)
  totals.skipped += TESTS.installed
}
finish()
