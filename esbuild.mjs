// Bundles the sidecar/CLI (and, once present, the extension) into dist/.
// zeromq stays external: it loads its N-API addon at run time and ships in node_modules.
import { build } from 'esbuild'
import { existsSync } from 'node:fs'
import { dependencyPatches } from './scripts/dependency-patches.mjs'

const watch = process.argv.includes('--watch')
const common = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  sourcemap: 'linked',
  external: ['zeromq', 'vscode'],
  logLevel: 'warning',
  legalComments: 'linked'
}
const version = JSON.parse(await (await import('node:fs/promises')).readFile(new URL('./package.json', import.meta.url), 'utf8')).version
const targets = [
  {
    ...common,
    entryPoints: ['sidecar/src/main.ts'],
    outfile: 'dist/meshlink.mjs',
    format: 'esm',
    plugins: [dependencyPatches()],
    define: { MESHLINK_VERSION: JSON.stringify(version) },
    // ESM bundles of CommonJS deps need a require() in scope
    banner: { js: "import { createRequire as __mlCreateRequire } from 'node:module'; const require = __mlCreateRequire(import.meta.url);" }
  }
]
if (existsSync('extension/src/extension.ts')) {
  targets.push({ ...common, entryPoints: ['extension/src/extension.ts'], outfile: 'dist/extension.cjs', format: 'cjs', define: { MESHLINK_VERSION: JSON.stringify(version) } })
}
if (watch) {
  const { context } = await import('esbuild')
  for (const t of targets) await (await context(t)).watch()
} else {
  await Promise.all(targets.map(t => build(t)))
}
