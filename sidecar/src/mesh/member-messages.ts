import { framedStream } from '../node/framed-stream.ts'
import type { Connection, Stream } from '@libp2p/interface'

/** The first open connection to each connected member (a member may have several). */
export function onePerMember (connections: Connection[]): Connection[] {
  const seen = new Set<string>()
  return connections.filter(c => {
    const id = c.remotePeer.toString()
    if (seen.has(id) || c.status !== 'open') return false
    seen.add(id)
    return true
  })
}

/**
 * Sends one length-prefixed JSON message on a new stream of `protocol` and closes it: how members
 * announce what they share. Throws what went wrong (the stream is aborted).
 */
export async function sendOneMessage (connection: Connection, protocol: string, body: unknown, maxBytes: number, timeoutMs: number): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs)
  let stream: Stream | undefined
  try {
    stream = await connection.newStream(protocol, { signal })
    const lp = framedStream(stream, { maxDataLength: maxBytes })
    await lp.write(new TextEncoder().encode(JSON.stringify(body)), { signal })
    await stream.close({ signal })
  } catch (err) {
    stream?.abort(err as Error)
    throw err
  }
}

/** Reads the one length-prefixed message of an inbound stream (at most `maxBytes`) and closes it. */
export async function readOneMessage (stream: Stream, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  const lp = framedStream(stream, { maxDataLength: maxBytes })
  const bytes = (await lp.read({ signal: AbortSignal.timeout(timeoutMs) })).subarray()
  await stream.close()
  return bytes
}
