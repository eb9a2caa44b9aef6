import { mkdirSync, chmodSync, lstatSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { createHash } from 'node:crypto'

/** Where the ROUTER and PUB sockets bind. */
export interface Endpoints {
  router: string
  events: string
  /** ipc socket files to remove on shutdown (none for tcp). */
  files: string[]
}

/** Longest ipc:// path libzmq accepts on Linux/macOS (sun_path is 104–108 bytes). */
const MAX_IPC_PATH = 100

/** Makes `dir` (0700, ours, not a symlink) or refuses, so no other user can reach the sockets. */
function privateDir (dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const st = lstatSync(dir)
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`)
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw new Error(`${dir} belongs to another user`)
  chmodSync(dir, 0o700)
}

/**
 * Chooses the API endpoints for a state dir: on Linux/macOS ipc:// sockets inside a 0700 directory
 * (`<state>/run`, or a per-user temp dir when that path is too long for a socket); on Windows
 * tcp://127.0.0.1:0 (the bound port is read back after bind).
 */
export function chooseEndpoints (stateDir: string, platform: NodeJS.Platform = process.platform): Endpoints {
  if (platform === 'win32') return { router: 'tcp://127.0.0.1:0', events: 'tcp://127.0.0.1:0', files: [] }
  let dir = join(stateDir, 'run')
  if (join(dir, 'events.sock').length > MAX_IPC_PATH) {
    const uid = typeof process.getuid === 'function' ? process.getuid() : 0
    dir = join(tmpdir(), `meshlink-${uid}`, createHash('sha256').update(stateDir).digest('hex').slice(0, 12))
    privateDir(join(tmpdir(), `meshlink-${uid}`))
  }
  privateDir(dir)
  const router = join(dir, 'api.sock')
  const events = join(dir, 'events.sock')
  for (const f of [router, events]) {
    try { unlinkSync(f) } catch { /* not there */ }
  }
  return { router: `ipc://${router}`, events: `ipc://${events}`, files: [router, events] }
}
