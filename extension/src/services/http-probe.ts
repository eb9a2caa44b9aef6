// What a forwarded service speaks, so "Open" knows whether to start a browser: one connection
// through the forward sends `HEAD / HTTP/1.1` and reads the first bytes of the answer. A reply
// starting "HTTP/" is HTTP; a TLS alert record (0x15 0x03) is a TLS server, so HTTPS; anything
// else, or silence, is plain TCP (a database, SSH...). A short timeout: a server that speaks
// only when spoken to differently must not hold the command up.
import { connect } from 'node:net'
import type { ServiceKind } from '../views/services-rows.ts'

export interface ProbeResult {
  kind: ServiceKind
  /** How it was decided: the status line, "TLS", "no answer in 2500 ms", "closed without answering"... */
  detail: string
  /** The connection closed before any byte came back: the forward could not reach the service. */
  closedEarly: boolean
}

/** @default 2500 */
export const PROBE_TIMEOUT_MS = 2500

/** Classifies the first bytes a server answered a HEAD request with. */
export function classify (first: Buffer): Pick<ProbeResult, 'kind' | 'detail'> {
  if (first.subarray(0, 5).toString('latin1') === 'HTTP/') {
    return { kind: 'http', detail: first.toString('latin1').split('\r\n')[0].slice(0, 80) }
  }
  // a TLS server answers plaintext with an alert record (content type 21, version 3.x)
  if (first.length >= 2 && first[0] === 0x15 && first[1] === 0x03) return { kind: 'https', detail: 'TLS' }
  return { kind: 'tcp', detail: JSON.stringify(first.subarray(0, 24).toString('latin1')) }
}

/** Probes host:port; never rejects. */
export function probeService (host: string, port: number, opts: { timeoutMs?: number, signal?: AbortSignal } = {}): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? PROBE_TIMEOUT_MS
  return new Promise((resolve) => {
    let got = Buffer.alloc(0)
    let done = false
    const sock = connect({ host, port })
    const finish = (r: ProbeResult): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      sock.destroy()
      resolve(r)
    }
    const onAbort = (): void => finish({ kind: 'tcp', detail: 'cancelled', closedEarly: false })
    const timer = setTimeout(() => finish(got.length > 0 ? { ...classify(got), closedEarly: false } : { kind: 'tcp', detail: `no answer in ${timeoutMs} ms`, closedEarly: false }), timeoutMs)
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    sock.setNoDelay(true)
    sock.once('connect', () => {
      const h = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
      sock.write(`HEAD / HTTP/1.1\r\nHost: ${h}\r\nUser-Agent: MeshLink\r\nAccept: */*\r\nConnection: close\r\n\r\n`)
    })
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d])
      // "HTTP/" and the status line, or a TLS record header: enough to decide
      if (got.includes('\r\n') || got.length >= 64 || (got[0] === 0x15 && got.length >= 2)) finish({ ...classify(got), closedEarly: false })
    })
    sock.once('end', () => finish(got.length > 0 ? { ...classify(got), closedEarly: false } : { kind: 'tcp', detail: 'closed without answering', closedEarly: true }))
    sock.once('error', (err) => finish({ kind: 'tcp', detail: err.message, closedEarly: got.length === 0 }))
  })
}
