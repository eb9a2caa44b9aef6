// A second sidecar for the e2e suite: a teammate's machine, on loopback, without mDNS.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MeshlinkClient } from '../../../sidecar/src/client/client.ts'
import type { ApiInfo } from '../../../sidecar/src/daemon/api-info.ts'
import { readHandshake } from '../../../extension/src/sidecar/handshake.ts'

export interface PeerSidecar {
  info: ApiInfo
  client: MeshlinkClient
  stop(): Promise<void>
}

export async function startPeerSidecar (bundle: string, name: string): Promise<PeerSidecar> {
  const state = mkdtempSync(join(tmpdir(), 'ml-e2e-peer-'))
  const child: ChildProcess = spawn(process.execPath, [bundle, 'up', '--handshake', '--state', state, '--name', name, '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  const r = await readHandshake(child, AbortSignal.timeout(30_000)).catch((err: Error) => { child.kill('SIGKILL'); throw new Error(`peer sidecar: ${err.message}\n${stderr}`) })
  if (r.kind !== 'ready') throw new Error(`peer sidecar exited (${r.signal ?? r.code}) before its handshake:\n${stderr}`)
  const client = new MeshlinkClient(r.info, { timeoutMs: 20_000 })
  return {
    info: r.info,
    client,
    async stop () {
      client.close()
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise(resolve => child.once('exit', resolve))
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), 8000)
        await exited
        clearTimeout(t)
      }
      rmSync(state, { recursive: true, force: true })
    }
  }
}
