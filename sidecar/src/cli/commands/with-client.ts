import { connect } from '../connect.ts'
import { EXIT, UsageError } from '../exit-codes.ts'
import type { OptionValues } from '../command.ts'
import type { MeshlinkClient } from '../../client/client.ts'

/** Runs `fn` against the running sidecar and prints JSON or text; errors are mapped by the caller. */
export async function withClient (v: OptionValues, fn: (c: MeshlinkClient) => Promise<{ json: unknown, text: string }>): Promise<number> {
  let timeoutMs: number | undefined
  if (v.timeout !== undefined) {
    const s = Number(v.timeout)
    if (!Number.isFinite(s) || s <= 0 || s > 3600) throw new UsageError(`--timeout must be seconds between 0 and 3600, not "${v.timeout}"`)
    timeoutMs = s * 1000
  }
  const client = connect(v.state as string | undefined, timeoutMs)
  try {
    const out = await fn(client)
    process.stdout.write((v.json === true ? JSON.stringify(out.json, null, 2) : out.text) + '\n')
    return EXIT.OK
  } finally {
    client.close()
  }
}

