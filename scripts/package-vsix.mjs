// `npm run package`: one platform-specific .vsix per target with `vsce package --target`.
// Each holds the bundled extension and sidecar (dist/), media, and only that platform's zeromq
// addon. The sidecar and extension bundles keep `zeromq` external (it loads a native addon), so the
// package carries a trimmed copy of zeromq (and its loader, cmake-ts) in dist/node_modules/, where
// Node's resolution from dist/*.{cjs,mjs} finds it. vsce never sees the repo's node_modules: it
// packages a staging folder, filtered again by the allowlist .vscodeignore.
//
//   node scripts/package-vsix.mjs [--target linux-x64 ...] [--out DIR] [--no-build]
import { spawnSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'

const root = join(import.meta.dirname, '..')
/** vsce target → the zeromq manifest's os/arch/libc. */
export const TARGETS = {
  'linux-x64': { os: 'linux', arch: 'x64', libc: 'glibc' },
  'linux-arm64': { os: 'linux', arch: 'arm64', libc: 'glibc' },
  'alpine-x64': { os: 'linux', arch: 'x64', libc: 'musl' },
  'alpine-arm64': { os: 'linux', arch: 'arm64', libc: 'musl' },
  'darwin-x64': { os: 'darwin', arch: 'x64', libc: 'libc' },
  'darwin-arm64': { os: 'darwin', arch: 'arm64', libc: 'libc' },
  'win32-x64': { os: 'win32', arch: 'x64', libc: 'msvc' },
  'win32-arm64': { os: 'win32', arch: 'arm64', libc: 'msvc' }
}
const DEFAULT_TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'alpine-x64', 'alpine-arm64']
/** Newest build first, plus one older as a fallback (e.g. for an older glibc): N-API addons are ABI-stable. */
const ADDONS_PER_TARGET = 2
const GOAL_BYTES = 15 * 1024 * 1024

const { values } = parseArgs({ options: { target: { type: 'string', multiple: true }, out: { type: 'string' }, 'no-build': { type: 'boolean' } } })
const targets = values.target ?? DEFAULT_TARGETS
for (const t of targets) if (!TARGETS[t]) { console.error(`unknown target ${t}; known: ${Object.keys(TARGETS).join(', ')}`); process.exit(2) }
const outDir = resolve(values.out ?? join('dist', 'vsix'))

function run (cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`)
}

function copy (from, to) {
  mkdirSync(dirname(to), { recursive: true })
  copyFileSync(from, to)
}

/** The zeromq addon builds for one target, newest first: [{ key, path }] from build/manifest.json. */
function addonsFor (target) {
  const want = TARGETS[target]
  const manifest = JSON.parse(readFileSync(join(root, 'node_modules/zeromq/build/manifest.json'), 'utf8'))
  return Object.entries(manifest)
    .map(([key, path]) => ({ key, path, cfg: JSON.parse(key) }))
    .filter(a => a.cfg.os === want.os && a.cfg.arch === want.arch && a.cfg.libc === want.libc && a.cfg.runtime === 'node')
    .filter(a => existsSync(join(root, 'node_modules/zeromq/build', a.path.replace(/\\/g, '/'))))
    .sort((a, b) => (b.cfg.abi ?? 0) - (a.cfg.abi ?? 0))
    .slice(0, ADDONS_PER_TARGET)
}

function stage (target, dir) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  // the extension manifest only: no npm scripts (vsce would run vscode:prepublish), no runtime deps (bundled)
  for (const k of ['scripts', 'dependencies', 'bin', 'files', 'allowScripts', 'type', 'private']) delete pkg[k]
  pkg.devDependencies = { '@types/vscode': pkg.devDependencies?.['@types/vscode'] } // lets vsce check it against engines.vscode
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n')
  for (const f of readdirSync(root)) if (/^package\.nls(\..+)?\.json$/.test(f) || /^LICENSE/.test(f)) copy(join(root, f), join(dir, f))
  copy(join(root, 'extension/README.md'), join(dir, 'README.md'))
  copy(join(root, '.vscodeignore'), join(dir, '.vscodeignore'))
  cpSync(join(root, 'media'), join(dir, 'media'), { recursive: true })
  for (const f of ['extension.cjs', 'meshlink.mjs']) copy(join(root, 'dist', f), join(dir, 'dist', f))
  for (const f of readdirSync(join(root, 'dist'))) if (f.endsWith('.LEGAL.txt')) copy(join(root, 'dist', f), join(dir, 'dist', f))

  const zmqSrc = join(root, 'node_modules/zeromq')
  const zmq = join(dir, 'dist/node_modules/zeromq')
  for (const f of ['package.json', 'LICENSE.txt', 'LICENSE_MPL-2.0.txt']) copy(join(zmqSrc, f), join(zmq, f))
  for (const sub of ['lib', 'lib/compat']) {
    for (const f of readdirSync(join(zmqSrc, sub))) if (f.endsWith('.js')) copy(join(zmqSrc, sub, f), join(zmq, sub, f))
  }
  const addons = addonsFor(target)
  if (addons.length === 0) throw new Error(`zeromq ships no prebuilt addon for ${target} in node_modules/zeromq/build`)
  for (const a of addons) copy(join(zmqSrc, 'build', a.path.replace(/\\/g, '/')), join(zmq, 'build', a.path.replace(/\\/g, '/')))
  // the loader picks from the manifest: list only what is packaged
  writeFileSync(join(zmq, 'build/manifest.json'), JSON.stringify(Object.fromEntries(addons.map(a => [a.key, a.path]))))
  const cmakeTs = join(root, 'node_modules/cmake-ts')
  copy(join(cmakeTs, 'package.json'), join(dir, 'dist/node_modules/cmake-ts/package.json'))
  copy(join(cmakeTs, 'build/loader.js'), join(dir, 'dist/node_modules/cmake-ts/build/loader.js'))
  return addons.map(a => a.path.replace(/\\/g, '/'))
}

/** Entry names and sizes of a zip, from its central directory. */
export function zipEntries (file) {
  const buf = readFileSync(file)
  let eocd = buf.length - 22
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--
  if (eocd < 0) throw new Error(`${file} is not a zip`)
  const count = buf.readUInt16LE(eocd + 10)
  let p = buf.readUInt32LE(eocd + 16)
  const entries = []
  for (let i = 0; i < count; i++) {
    const nameLen = buf.readUInt16LE(p + 28)
    const extraLen = buf.readUInt16LE(p + 30)
    const commentLen = buf.readUInt16LE(p + 32)
    entries.push({ name: buf.toString('utf8', p + 46, p + 46 + nameLen), size: buf.readUInt32LE(p + 24) })
    p += 46 + nameLen + extraLen + commentLen
  }
  return entries
}

function check (vsix, target, addonPaths) {
  const names = zipEntries(vsix).map(e => e.name)
  const must = ['extension/package.json', 'extension/dist/extension.cjs', 'extension/dist/meshlink.mjs', 'extension/media/icon.png', 'extension/media/mesh-map.js',
    'extension/dist/node_modules/zeromq/lib/index.js', 'extension/dist/node_modules/zeromq/build/manifest.json', 'extension/dist/node_modules/cmake-ts/build/loader.js',
    ...addonPaths.map(p => `extension/dist/node_modules/zeromq/build/${p}`)]
  for (const m of must) if (!names.includes(m)) throw new Error(`${vsix} lacks ${m}`)
  const addons = names.filter(n => n.endsWith('.node'))
  const want = TARGETS[target]
  const foreign = addons.filter(n => !n.includes(`/build/${want.os}/${want.arch}/`) || (want.libc === 'musl') !== n.includes('/musl-'))
  if (foreign.length) throw new Error(`${vsix} carries other platforms' addons: ${foreign.join(', ')}`)
  const stray = names.filter(n => /\.(ts|map)$/.test(n) || n.includes('/src/') || n.startsWith('extension/node_modules/'))
  if (stray.length) throw new Error(`${vsix} carries files it should not: ${stray.slice(0, 5).join(', ')}`)
  return addons
}

if (!values['no-build']) run(process.execPath, [join(root, 'esbuild.mjs')], { cwd: root })
mkdirSync(outDir, { recursive: true })
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version
const vsce = join(root, 'node_modules/@vscode/vsce/vsce')
const hasLicense = readdirSync(root).some(f => /^LICENSE/.test(f))
const report = []
for (const target of targets) {
  const dir = mkdtempSync(join(tmpdir(), `ml-vsix-${target}-`))
  try {
    const addonPaths = stage(target, dir)
    const vsix = join(outDir, `meshlink-${target}-${version}.vsix`)
    run(process.execPath, [vsce, 'package', '--target', target, '--no-dependencies', '--allow-missing-repository', ...(hasLicense ? [] : ['--skip-license']), '--out', vsix], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] })
    const addons = check(vsix, target, addonPaths)
    const size = statSync(vsix).size
    report.push({ target, vsix: relative(process.cwd(), vsix), size, addons: addons.map(a => a.replace('extension/dist/node_modules/zeromq/build/', '')) })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
let over = false
for (const r of report) {
  const mb = (r.size / 1024 / 1024).toFixed(2)
  if (r.size > GOAL_BYTES) over = true
  console.log(`${r.target.padEnd(13)} ${mb.padStart(6)} MB  ${r.vsix}  (zeromq: ${r.addons.join(', ')})${r.size > GOAL_BYTES ? '  OVER the 15 MB goal' : ''}`)
}
if (over) process.exitCode = 1
