import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/**
 * The platform's conventional place for per-user state:
 * Linux `$XDG_STATE_HOME/meshlink` (default `~/.local/state/meshlink`),
 * macOS `~/Library/Application Support/MeshLink`, Windows `%LOCALAPPDATA%\MeshLink`.
 */
export function defaultStateDir (env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'MeshLink')
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'MeshLink')
  const xdg = env.XDG_STATE_HOME
  return join(xdg && xdg.startsWith('/') ? xdg : join(home, '.local', 'state'), 'meshlink')
}

/** Resolves the state dir from an explicit flag, then $MESHLINK_STATE, then the platform default. */
export function resolveStateDir (flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.MESHLINK_STATE ?? defaultStateDir(env))
}

/** The files inside a state dir. */
export function statePaths (stateDir: string) {
  return {
    dir: stateDir,
    identity: join(stateDir, 'identity.key'),
    config: join(stateDir, 'config.json'),
    mesh: join(stateDir, 'mesh.json'),
    peers: (meshId: string) => join(stateDir, 'peers', `${meshId}.json`),
    peersDir: join(stateDir, 'peers'),
    api: join(stateDir, 'api.json'),
    shares: join(stateDir, 'shares.json'),
    store: join(stateDir, 'store'),
    lock: join(stateDir, 'sidecar.lock'),
    log: join(stateDir, 'sidecar.log')
  }
}
export type StatePaths = ReturnType<typeof statePaths>
