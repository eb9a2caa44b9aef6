// Helpers of the artifact-sync bench: big temp dirs (on /dev/shm when it has room), trees of
// pseudo-random files, tree digests, sidecars (also inside a network namespace), transfers.
import { createCipheriv, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, openSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { stopTracked, sleep, type Tracked } from '../lib/child-processes.ts'
import { readMemory, startSidecar as startBenchSidecar } from '../lib/sidecar-process.ts'
import { MeshlinkClient, EventStream } from '../../sidecar/src/client/client.ts'
import type { ApiInfo } from '../../sidecar/src/daemon/api-info.ts'
import type { Transfer } from '../../sidecar/src/gen/protocol-types.ts'
import { treeDigest } from '../../test/helpers/tree-digest.ts'
export { treeDigest }

export type Log = (line: string) => void

const bigDirs = new Set<string>()

/** A temp dir for multi-GB data: /dev/shm when it has `needBytes` free (plus 1 GiB), else the OS temp dir. */
export function bigTempDir (label: string, needBytes: number): string {
  let base = tmpdir()
  try {
    const s = statfsSync('/dev/shm')
    if (s.bavail * s.bsize > needBytes + 2 ** 30) base = '/dev/shm'
  } catch { /* no /dev/shm */ }
  const d = mkdtempSync(join(base, `meshlink-bench-sync-${label}-`))
  bigDirs.add(d)
  return d
}

export function removeBigDir (d: string): void {
  rmSync(d, { recursive: true, force: true })
  bigDirs.delete(d)
}

export function removeAllBigDirs (): void {
  for (const d of [...bigDirs]) try { removeBigDir(d) } catch { /* best effort */ }
}

/** Writes `bytes` of fast pseudo-random data (AES-128-CTR keystream of a random key) to `path`. */
export function writeRandomFile (path: string, bytes: number): void {
  const c = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16))
  const zero = Buffer.alloc(4 * 1024 * 1024)
  const fd = openSync(path, 'w')
  try {
    let left = bytes
    while (left > 0) {
      const n = Math.min(zero.length, left)
      writeSync(fd, c.update(zero.subarray(0, n)))
      left -= n
    }
  } finally { closeSync(fd) }
}

/** `files` files of `fileBytes` each, spread over sub-dirs of 10. Returns the file paths. */
export function makeTree (dir: string, files: number, fileBytes: number): string[] {
  const out: string[] = []
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `d${Math.floor(i / 10)}`)
    mkdirSync(sub, { recursive: true })
    const p = join(sub, `f${i}.bin`)
    writeRandomFile(p, fileBytes)
    out.push(p)
  }
  return out
}

export function sameTree (a: string, b: string): boolean {
  const x = treeDigest(a); const y = treeDigest(b)
  return x.length === y.length && x.every((v, i) => v === y[i])
}

export interface Sidecar {
  label: string
  tracked: Tracked
  info: ApiInfo
  client: MeshlinkClient
  stateDir: string
  stop(signal?: NodeJS.Signals): Promise<void>
}

/** `meshlink up` as the other benches start it (bench/lib/sidecar-process.ts), named `label`, with a client. */
export async function startSidecar (opts: { label: string, stateDir: string, listen: string, netns?: string, nodeArgs?: string[], bundle?: string }): Promise<Sidecar> {
  const { tracked, info } = await startBenchSidecar(opts.stateDir, 20_000, { label: opts.label, listen: opts.listen, netns: opts.netns, nodeArgs: opts.nodeArgs, bundle: opts.bundle, args: ['--name', opts.label] })
  const client = new MeshlinkClient(info, { timeoutMs: 30_000 })
  return {
    label: opts.label,
    tracked,
    info,
    client,
    stateDir: opts.stateDir,
    stop: async (signal) => {
      client.close()
      if (signal === 'SIGKILL') { try { process.kill(tracked.pid, 'SIGKILL') } catch { /* gone */ } await tracked.exited; return }
      await stopTracked(tracked, 10_000)
    }
  }
}

export async function until<T> (fn: () => Promise<T | undefined | false>, what: string, timeoutMs: number, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < end) {
    try { const v = await fn(); if (v !== undefined && v !== false) return v } catch (err) { last = err }
    await sleep(everyMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`)
}

/** Joins every `others` to `first`'s mesh by invite. */
export async function formMesh (first: Sidecar, others: Sidecar[]): Promise<void> {
  const { code } = await first.client.call('mesh.invite')
  for (const s of others) {
    const r = await s.client.call('mesh.join', { code })
    if (!r.connected) throw new Error(`${s.label} joined but did not connect to ${first.label}: ${r.error ?? ''}`)
  }
}

export async function getTransfer (s: Sidecar, id: string): Promise<Transfer | undefined> {
  return (await s.client.call('transfers.list')).transfers.find(t => t.id === id)
}

/**
 * Waits (bounded) until the transfer leaves `running`; returns it and when (performance.now()) that
 * was known: when its transfer.done / transfer.failed event arrived. The sidecar is also asked every
 * `pollMs`, for an event sent before the subscription took effect (a short transfer). Polling alone
 * had to be frequent to time the end well: 40 transfers.list calls a second cost the measured sidecar
 * ~4 % of a core on the 2-vCPU VM, where the LAN runs are bound by CPU.
 */
export async function waitTransfer (s: Sidecar, id: string, timeoutMs: number, pollMs = 250): Promise<{ t: Transfer, at: number }> {
  const events = new EventStream(s.info, ['transfer.done', 'transfer.failed'])
  let waiting = true
  const byEvent = (async (): Promise<{ t: Transfer, at: number } | undefined> => {
    for await (const e of events) {
      const t = (e.data as { transfer?: Transfer }).transfer
      if (t?.id === id) return { t, at: performance.now() }
    }
    return undefined
  })()
  const byPoll = (async (): Promise<{ t: Transfer, at: number } | undefined> => {
    const end = Date.now() + timeoutMs
    while (waiting && Date.now() < end) {
      await sleep(pollMs)
      const t = await getTransfer(s, id)
      if (t && t.state !== 'running') return { t, at: performance.now() }
    }
    return undefined
  })()
  try {
    const r = await Promise.race([byEvent, byPoll])
    if (r) return r
  } finally {
    waiting = false
    events.close()
  }
  try { await s.client.call('transfers.cancel', { id }) } catch { /* best effort */ }
  throw new Error(`transfer ${id} on ${s.label} still running after ${timeoutMs} ms`)
}

export async function publish (s: Sidecar, path: string, tag: string, timeoutMs = 120_000): Promise<{ id: string, seconds: number, t: Transfer }> {
  const t0 = performance.now()
  const { transfer } = await s.client.call('artifacts.publish', { path, tag })
  const { t, at } = await waitTransfer(s, transfer.id, timeoutMs, 50)
  if (t.state !== 'done' || !t.artifact) throw new Error(`publish on ${s.label} ${t.state}: ${JSON.stringify(t.error)}`)
  return { id: t.artifact, seconds: (at - t0) / 1000, t }
}

/** Waits until `s` sees artifact `id` announced by at least `holders` complete holders. */
export async function seesArtifact (s: Sidecar, id: string, holders: number, timeoutMs = 30_000): Promise<void> {
  await until(async () => ((await s.client.call('artifacts.list')).artifacts.find(a => a.id === id)?.holders.filter(h => h.complete).length ?? 0) >= holders,
    `${s.label} to see ${id.slice(0, 8)} held by ${holders}`, timeoutMs, 100)
}

/** Peak VmRSS sampler (every `everyMs`) over a set of PIDs; stop() returns MB per PID (NaN: never read). */
export function sampleRss (pids: number[], everyMs = 100): () => number[] {
  const peak = pids.map(() => Number.NaN)
  const tick = (): void => pids.forEach((p, i) => {
    const m = readMemory(p)
    if (m && !(m.rssMB <= peak[i])) peak[i] = m.rssMB
  })
  tick()
  const t = setInterval(tick, everyMs)
  return () => { clearInterval(t); tick(); return peak }
}

/** Bytes received on `iface` in the network namespace of process `pid` (from /proc/<pid>/net/dev); NaN once it is gone. */
export function rxBytes (pid: number, iface = 'eth0'): number {
  return interfaceBytes(pid, iface, 0)
}

/** Bytes sent on `iface` in the network namespace of process `pid`; NaN once it is gone. */
export function txBytes (pid: number, iface = 'eth0'): number {
  return interfaceBytes(pid, iface, 8)
}

/** Field `field` of the interface's line in /proc/<pid>/net/dev (0: received bytes, 8: sent bytes). */
function interfaceBytes (pid: number, iface: string, field: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').find(l => l.trim().startsWith(`${iface}:`))
    return line ? Number(line.split(':')[1].trim().split(/\s+/)[field]) : Number.NaN
  } catch { return Number.NaN }
}
