import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'

/** The `meshlink.*` settings (see `contributes.configuration` in package.json). */
export interface MeshlinkConfig {
  /** Name shown to teammates; undefined keeps the sidecar's own (user@host or the last one set). */
  displayName: string | undefined
  /** Sidecar state dir; undefined means $MESHLINK_STATE, then the platform default. */
  stateDir: string | undefined
  /** TCP port for mesh connections; undefined keeps the sidecar default (4455, else a free port). */
  listenPort: number | undefined
  /** Full listen multiaddrs; when non-empty they replace `listenPort`. */
  listenAddresses: string[]
  /** Member multiaddrs (with /p2p/) to dial at start. */
  bootstrap: string[]
  /** LAN discovery with mDNS. @default true */
  mdns: boolean
  /** A sidecar script or executable instead of the bundled one. */
  sidecarPath: string | undefined
  /** The Node.js (22 or newer) that runs the sidecar instead of VS Code's own. */
  nodePath: string | undefined
}

/** Reads one setting under `meshlink.`; in the extension, `getConfiguration('meshlink').get`. */
export type SettingGetter = (key: string) => unknown

/** Settings the running sidecar cannot pick up: changing one asks for a restart. */
export const RESTART_SETTINGS = ['stateDir', 'listenPort', 'listenAddresses', 'bootstrap', 'mdns', 'sidecar.path', 'sidecar.nodePath'] as const

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined)
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s.trim() !== '').map(s => s.trim()) : [])

/** `~` and `${userHome}` at the start of a path setting mean the home folder, as in VS Code's own settings. */
export function expandHome (p: string | undefined, home = homedir()): string | undefined {
  if (p === undefined) return undefined
  if (p === '~') return home
  if (p.startsWith('~/') || p.startsWith('~\\')) return join(home, p.slice(2))
  return p.replace(/^\$\{userHome\}/, home)
}

/** Settings → a typed, validated config; bad values fall back to the defaults. */
export function readConfig (get: SettingGetter): MeshlinkConfig {
  const port = get('listenPort')
  return {
    displayName: str(get('displayName')),
    stateDir: expandHome(str(get('stateDir'))),
    listenPort: typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined,
    listenAddresses: strings(get('listenAddresses')),
    bootstrap: strings(get('bootstrap')),
    mdns: get('mdns') !== false,
    sidecarPath: expandHome(str(get('sidecar.path'))),
    nodePath: expandHome(str(get('sidecar.nodePath')))
  }
}

/** Arguments for `meshlink up` after the script path. */
export function upArgs (cfg: MeshlinkConfig, stateDir: string, parentPid: number): string[] {
  const args = ['up', '--handshake', '--parent-pid', String(parentPid), '--state', stateDir]
  if (cfg.displayName !== undefined) args.push('--name', cfg.displayName)
  const listen = cfg.listenAddresses.length > 0
    ? cfg.listenAddresses
    : cfg.listenPort !== undefined ? [`/ip4/0.0.0.0/tcp/${cfg.listenPort}`] : []
  for (const a of listen) args.push('--listen', a)
  for (const b of cfg.bootstrap) args.push('--bootstrap', b)
  if (!cfg.mdns) args.push('--no-mdns')
  return args
}

/** Relative state dirs would depend on the extension host's cwd: resolve them against home. */
export function absoluteStateDir (dir: string, home = homedir()): string {
  return isAbsolute(dir) ? dir : join(home, dir)
}
