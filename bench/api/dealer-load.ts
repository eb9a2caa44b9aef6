// One measuring client process, run once per (target, round) as the anchor's zmq_client.mjs is:
// a warm-up, sequential round trips for a bounded time (p50/p99, req/s), then a window of N
// requests in flight for a bounded time (req/s). The same request bytes go to every target.
// Usage: dealer-load.ts '<json LoadOptions>'; prints one JSON line (LoadResult).
import { Dealer } from 'zeromq'
import { MeshlinkClient } from '../../sidecar/src/client/client.ts'
import type { ApiInfo } from '../../sidecar/src/daemon/api-info.ts'
import { percentile } from '../lib/stats.ts'

export interface LoadOptions {
  endpoint: string
  token: string
  method: string
  /** 'dealer': a raw zeromq Dealer (as the anchor); 'client': the project's MeshlinkClient. */
  via: 'dealer' | 'client'
  warmup: number
  latSecs: number
  tputSecs: number
  window: number
}

export interface LoadResult {
  via: string
  n: number
  p50_us: number
  p99_us: number
  mean_us: number
  max_us: number
  seq_rps: number
  window: number
  window_n: number
  window_rps: number
  reqBytes: number
  /** Size of the last reply; null via the client, which does not expose it. */
  replyBytes: number | null
}

const MAX_SEQ = 200_000
const MAX_WINDOWED = 2_000_000

const o = JSON.parse(process.argv[2] ?? '{}') as LoadOptions
let nextId = 0
const request = (): { id: number, body: string } => {
  const id = ++nextId
  return { id, body: JSON.stringify({ v: 1, id, token: o.token, method: o.method, params: {} }) }
}
let replyBytes = 0

/** A reply must be the success envelope for our id; an error reply ends the run loudly. */
function check (buf: Buffer, id?: number): void {
  replyBytes = buf.byteLength
  const r = JSON.parse(buf.toString('utf8')) as { id?: unknown, result?: unknown, error?: unknown }
  if (r.result === undefined) throw new Error(`error reply: ${JSON.stringify(r.error ?? r).slice(0, 300)}`)
  if (id !== undefined && r.id !== id) throw new Error(`reply for id ${String(r.id)}, expected ${id}`)
}

async function viaDealer (): Promise<LoadResult> {
  const d = new Dealer({ sendHighWaterMark: 10_000, receiveHighWaterMark: 10_000, linger: 0 })
  d.connect(o.endpoint)
  const roundTrip = async (): Promise<void> => {
    const { id, body } = request()
    await d.send(body)
    const [m] = await d.receive()
    check(m, id)
  }
  for (let i = 0; i < o.warmup; i++) await roundTrip()
  const lat: number[] = []
  const t0 = performance.now()
  const tEnd = t0 + o.latSecs * 1000
  while (lat.length < MAX_SEQ && performance.now() < tEnd) {
    const s = process.hrtime.bigint()
    await roundTrip()
    lat.push(Number(process.hrtime.bigint() - s) / 1000)
  }
  const seqRate = lat.length / ((performance.now() - t0) / 1000)
  // windowed: keep `window` requests in flight until the time or count bound, then drain
  let sent = 0
  let recv = 0
  let stopping = false
  const t1 = performance.now()
  const stopAt = t1 + o.tputSecs * 1000
  for (; sent < o.window; sent++) await d.send(request().body)
  while (recv < sent) {
    const [m] = await d.receive()
    check(m)
    recv++
    if (!stopping && (performance.now() > stopAt || sent >= MAX_WINDOWED)) stopping = true
    if (!stopping) { await d.send(request().body); sent++ }
  }
  const windowRate = recv / ((performance.now() - t1) / 1000)
  d.close()
  return result(lat, seqRate, recv, windowRate)
}

async function viaClient (): Promise<LoadResult> {
  const info = { router: o.endpoint, token: o.token } as ApiInfo
  const c = new MeshlinkClient(info, { timeoutMs: 10_000 })
  const call = async (): Promise<void> => { await c.callRaw(o.method, {}) }
  for (let i = 0; i < o.warmup; i++) await call()
  const lat: number[] = []
  const t0 = performance.now()
  const tEnd = t0 + o.latSecs * 1000
  while (lat.length < MAX_SEQ && performance.now() < tEnd) {
    const s = process.hrtime.bigint()
    await call()
    lat.push(Number(process.hrtime.bigint() - s) / 1000)
  }
  const seqRate = lat.length / ((performance.now() - t0) / 1000)
  let done = 0
  let issued = 0
  const t1 = performance.now()
  const stopAt = t1 + o.tputSecs * 1000
  const worker = async (): Promise<void> => {
    while (performance.now() < stopAt && issued < MAX_WINDOWED) {
      issued++
      await call()
      done++
    }
  }
  await Promise.all(Array.from({ length: o.window }, worker))
  const windowRate = done / ((performance.now() - t1) / 1000)
  c.close()
  return result(lat, seqRate, done, windowRate)
}

function result (lat: number[], seqRate: number, windowN: number, windowRate: number): LoadResult {
  const sorted = [...lat].sort((a, b) => a - b)
  return {
    via: o.via,
    n: lat.length,
    p50_us: percentile(sorted, 50),
    p99_us: percentile(sorted, 99),
    mean_us: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length),
    max_us: sorted[sorted.length - 1] ?? Number.NaN,
    seq_rps: seqRate,
    window: o.window,
    window_n: windowN,
    window_rps: windowRate,
    reqBytes: request().body.length,
    replyBytes: o.via === 'dealer' ? replyBytes : null
  }
}

const res = o.via === 'client' ? await viaClient() : await viaDealer()
console.log(JSON.stringify(res))
process.exit(0)
