// Runs wrk once with the anchor's wrk_json.lua and returns its numbers.
import { join } from 'node:path'
import { spawnTracked, stopTracked } from '../lib/child-processes.ts'

export interface WrkResult {
  requests: number
  bytes: number
  duration_us: number
  /** connect + read + write + timeout errors */
  errors: number
  non2xx: number
  p50_us: number
  p90_us: number
  p99_us: number
  mean_us: number
  max_us: number
}

const LUA = join(import.meta.dirname, 'wrk_json.lua')

/** `wrk -t<threads> -c<conns> -d<secs>s --latency -s wrk_json.lua http://127.0.0.1:<port><path>`, bounded. */
export async function runWrk (wrk: string, port: number, path: string, threads: number, conns: number, secs: number): Promise<WrkResult> {
  const t = spawnTracked('wrk', wrk, [`-t${threads}`, `-c${conns}`, `-d${secs}s`, '--latency', '-s', LUA, `http://127.0.0.1:${port}${path}`])
  try {
    const deadline = Date.now() + (secs + 20) * 1000
    for (;;) {
      const line = await t.lines.next(Math.max(1, deadline - Date.now()), 'the WRKJSON line')
      if (line.startsWith('WRKJSON ')) return JSON.parse(line.slice(8)) as WrkResult
    }
  } finally {
    await stopTracked(t)
  }
}
