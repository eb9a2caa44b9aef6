// Runs an extension test suite in a real VS Code extension host: code-server (VS Code's server
// build) on 127.0.0.1, with headless Chromium as the workbench that makes the extension host start.
// The workbench loads the suite through VS Code's extension-development parameters (the mechanism
// VS Code's own web integration tests use) and reports back through codeAutomationLog/-Exit.
// See shared/VSCODE_HOST.md.
import { spawn, spawnSync } from 'node:child_process'
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { format } from 'node:util'
import { join } from 'node:path'

const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']

function freePort () {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
  })
}

/** The workbench passes console.log arguments as a JSON array ("%s" formats included). */
function consoleText (message) {
  let args = message
  if (typeof message === 'string' && message.startsWith('[')) {
    try { args = JSON.parse(message) } catch { args = [message] }
  }
  return Array.isArray(args) ? format(...args) : String(args)
}

const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms))

async function waitForHttp (url, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) })
      if (r.ok) return
    } catch { /* not up yet */ }
    await sleep(250)
  }
  throw new Error(`code-server did not answer ${url} within ${timeoutMs} ms`)
}

/**
 * @param {object} o
 * @param {{ chromium: string, node: { bin: string, dist: string }, codeServer: string }} o.tools
 * @param {string} o.label                    used in file names and log prefixes
 * @param {string} o.extensionDevelopmentPath absolute
 * @param {string} o.extensionTestsPath       absolute path of the suite module (exports run())
 * @param {string} o.workspace                folder to open
 * @param {object} o.settings                 user (and machine) settings
 * @param {string} o.outputDir                screenshots and logs go here
 * @param {string} [o.installVsix]            install this .vsix into the fresh extensions dir first
 * @param {Record<string,string>} [o.env]     extra environment for the server (and so the extension host)
 * @param {number} [o.timeoutMs]              whole run, default 6 minutes
 * @returns {Promise<{ exitCode: number, passed: number, failed: number, pending: number, metrics: Record<string,string>, error?: string }>}
 */
export async function runSuiteInCodeServer (o) {
  const { chromium } = await import('playwright-core')
  const tmp = mkdtempSync(join(tmpdir(), `ml-vscode-${o.label}-`))
  const userData = join(tmp, 'user-data')
  const extensionsDir = join(tmp, 'extensions')
  const xdg = Object.fromEntries(['CONFIG', 'DATA', 'CACHE', 'STATE'].map(k => [`XDG_${k}_HOME`, join(tmp, 'xdg', k.toLowerCase())]))
  for (const d of [join(userData, 'User'), join(userData, 'Machine'), extensionsDir, ...Object.values(xdg)]) mkdirSync(d, { recursive: true })
  const settings = JSON.stringify(o.settings, null, 2)
  // machine-scoped settings are read from the remote's Machine settings in a remote window
  writeFileSync(join(userData, 'User', 'settings.json'), settings)
  writeFileSync(join(userData, 'Machine', 'settings.json'), settings)
  const config = join(tmp, 'config.yaml')
  writeFileSync(config, 'auth: none\ncert: false\n')
  mkdirSync(o.outputDir, { recursive: true })
  const serverLog = join(o.outputDir, `${o.label}-code-server.log`)
  const env = {
    ...process.env,
    ...xdg,
    ...o.env,
    PATH: `${join(o.tools.node.dist, 'bin')}:${process.env.PATH}`,
    EXTENSIONS_GALLERY: '{}',
    MESHLINK_E2E_EXTENSIONS_DIR: extensionsDir
  }
  const common = ['--config', config, '--user-data-dir', userData, '--extensions-dir', extensionsDir]
  const result = { exitCode: 1, passed: 0, failed: 0, pending: 0, metrics: {}, error: undefined }
  let server
  let browser
  const log = createWriteStream(join(o.outputDir, `${o.label}-workbench.log`))
  try {
    if (o.installVsix) {
      const r = spawnSync(o.tools.node.bin, [o.tools.codeServer, ...common, '--install-extension', o.installVsix], { env, encoding: 'utf8', timeout: 120_000 })
      writeFileSync(join(o.outputDir, `${o.label}-install.log`), `${r.stdout}\n${r.stderr}`)
      if (r.status !== 0) throw new Error(`code-server --install-extension ${o.installVsix} failed (exit ${r.status}): ${(r.stderr || r.stdout).slice(-800)}`)
    }
    const port = await freePort()
    const out = createWriteStream(serverLog)
    server = spawn(o.tools.node.bin, [o.tools.codeServer, ...common,
      '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
      '--ignore-last-opened', '--vscode-option', 'enable-smoke-test-driver', o.workspace], {
      env, detached: true, stdio: ['ignore', 'pipe', 'pipe']
    })
    server.stdout.pipe(out)
    server.stderr.pipe(out)
    const serverExited = new Promise(resolve => server.once('exit', (code, sig) => resolve(`code-server exited (${sig ?? code}); see ${serverLog}`)))
    await Promise.race([waitForHttp(`http://127.0.0.1:${port}/healthz`, 90_000), serverExited.then(m => { throw new Error(m) })])

    browser = await chromium.launch({ executablePath: o.tools.chromium, args: CHROMIUM_FLAGS, headless: true })
    const origin = `http://127.0.0.1:${port}`
    const context = await browser.newContext({ viewport: { width: 1500, height: 900 } })
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin })
    const page = await context.newPage()
    let shots = Promise.resolve()
    // the extension host's console reaches us as JSON arrays of console.log arguments; mocha's
    // spec reporter starts with the suite title
    let mochaLines = false
    let resolveExit
    const exited = new Promise(resolve => { resolveExit = resolve })
    await page.exposeFunction('codeAutomationExit', (code) => { resolveExit(Number(code)) })
    await page.exposeFunction('codeAutomationLog', (type, message) => {
      const text = consoleText(message)
      log.write(`${type} ${text}\n`)
      for (const line of text.split('\n')) {
        if (/^\s{2}\S/.test(line) && !mochaLines && /MeshLink/.test(line)) mochaLines = true
        const shot = /@@screenshot ([\w.-]+)/.exec(line)
        if (shot) {
          const file = join(o.outputDir, `${o.label}-${shot[1]}.png`)
          shots = shots.then(() => page.screenshot({ path: file })).then(() => log.write(`screenshot ${file}\n`), (err) => log.write(`screenshot ${file} failed: ${err.message}\n`))
        }
        const res = /@@result passed=(\d+) failed=(\d+) pending=(\d+)/.exec(line)
        if (res) Object.assign(result, { passed: Number(res[1]), failed: Number(res[2]), pending: Number(res[3]) })
        for (const m of line.matchAll(/@@metric (\w+)=([\d.]+)/g)) result.metrics[m[1]] = m[2]
        // mocha's spec reporter, for the console
        if (mochaLines && !line.includes('@@') && /^\s+\S/.test(line)) process.stdout.write(`  [${o.label}] ${line}\n`)
      }
    })
    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`
    const payload = [['extensionDevelopmentPath', remote(o.extensionDevelopmentPath)], ['extensionTestsPath', remote(o.extensionTestsPath)]]
    const url = `${origin}/?folder=${encodeURIComponent(o.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 })
    const timeoutMs = o.timeoutMs ?? 360_000
    const code = await Promise.race([
      exited,
      serverExited.then(m => { throw new Error(m) }),
      sleep(timeoutMs).then(() => { throw new Error(`the suite did not finish within ${timeoutMs / 1000} s`) })
    ]).catch(async (err) => {
      await page.screenshot({ path: join(o.outputDir, `${o.label}-timeout.png`) }).catch(() => {})
      throw err
    })
    await shots
    result.exitCode = code
  } catch (err) {
    result.error = err.message
  } finally {
    await browser?.close().catch(() => {})
    if (server && server.exitCode === null && server.signalCode === null) {
      const gone = new Promise(resolve => server.once('exit', resolve))
      try { process.kill(-server.pid, 'SIGTERM') } catch { /* already gone */ }
      const t = setTimeout(() => { try { process.kill(-server.pid, 'SIGKILL') } catch { /* gone */ } }, 5000)
      await Promise.race([gone, sleep(8000)])
      clearTimeout(t)
    }
    log.end()
    rmSync(tmp, { recursive: true, force: true, maxRetries: 3 })
  }
  return result
}
