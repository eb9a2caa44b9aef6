// Summarizes a V8 .cpuprofile of the bundled sidecar: self time per source module (the bundle's
// `// node_modules/...` / `// sidecar/src/...` section comments map a line to its module) and per
// function. Usage: node cpuprofile-top.ts <file.cpuprofile> [bundle.mjs] [topN]
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

interface CallFrame { functionName: string, url: string, lineNumber: number, columnNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, hitCount?: number }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

export interface ProfileSummary {
  totalMs: number
  /** Share of samples that were not idle. */
  busyMs: number
  modules: Array<{ module: string, ms: number, pct: number }>
  functions: Array<{ fn: string, module: string, ms: number, pct: number }>
}

/** Line (0-based) -> module, from esbuild's `// path` headers in a non-minified bundle. */
function moduleMap (bundle: string): (line: number) => string {
  const starts: Array<[number, string]> = []
  bundle.split('\n').forEach((l, i) => {
    const m = /^\/\/ ((?:node_modules|sidecar)\/\S+)$/.exec(l)
    if (m) starts.push([i, m[1]])
  })
  return (line: number) => {
    let lo = 0; let hi = starts.length - 1; let best = '(bundle preamble)'
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (starts[mid][0] <= line) { best = starts[mid][1]; lo = mid + 1 } else hi = mid - 1
    }
    return best.replace(/^node_modules\/((?:@[^/]+\/)?[^/]+)\/(?:dist\/)?(?:src\/)?/, '$1: ')
  }
}

export function summarizeProfile (file: string, bundlePath: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const lineOf = moduleMap(readFileSync(bundlePath, 'utf8'))
  const byId = new Map(p.nodes.map(n => [n.id, n]))
  const self = new Map<number, number>()
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)))
  const mods = new Map<string, number>(); const fns = new Map<string, { module: string, us: number }>()
  let total = 0; let idle = 0
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame
    total += us
    let module: string
    if (cf.url === '') module = `(${cf.functionName || 'native'})`
    else if (cf.url.endsWith('meshlink.mjs')) module = lineOf(cf.lineNumber)
    else if (cf.url.startsWith('node:')) module = cf.url
    else module = cf.url.startsWith('file:') ? fileURLToPath(cf.url).replace(/.*node_modules\//, '') : cf.url
    if (cf.functionName === '(idle)') idle += us
    mods.set(module, (mods.get(module) ?? 0) + us)
    const key = `${cf.functionName || '(anonymous)'} @ ${module}:${cf.lineNumber + 1}`
    const f = fns.get(key) ?? { module, us: 0 }
    f.us += us
    fns.set(key, f)
  }
  const busy = total - idle
  const pct = (us: number): number => busy > 0 ? 100 * us / busy : 0
  return {
    totalMs: total / 1000,
    busyMs: busy / 1000,
    modules: [...mods].filter(([m]) => m !== '((idle))').sort((a, b) => b[1] - a[1]).slice(0, top).map(([module, us]) => ({ module, ms: us / 1000, pct: pct(us) })),
    functions: [...fns].filter(([, f]) => f.module !== '((idle))').sort((a, b) => b[1].us - a[1].us).slice(0, top).map(([fn, f]) => ({ fn, module: f.module, ms: f.us / 1000, pct: pct(f.us) }))
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, bundle, n] = process.argv.slice(2)
  const s = summarizeProfile(file, bundle ?? new URL('../../dist/meshlink.mjs', import.meta.url).pathname, Number(n ?? 25))
  process.stdout.write(`${file}: ${s.busyMs.toFixed(0)} ms busy of ${s.totalMs.toFixed(0)} ms sampled\n\nself time by module (% of busy):\n`)
  for (const m of s.modules) process.stdout.write(`${m.pct.toFixed(1).padStart(6)} %  ${m.ms.toFixed(0).padStart(7)} ms  ${m.module}\n`)
  process.stdout.write('\nself time by function:\n')
  for (const f of s.functions) process.stdout.write(`${f.pct.toFixed(1).padStart(6)} %  ${f.ms.toFixed(0).padStart(7)} ms  ${f.fn}\n`)
}
