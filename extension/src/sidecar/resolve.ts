import { execFile } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { SIDECAR_NODE_FLAGS } from '../../../sidecar/src/daemon/node-flags.ts'

/** The sidecar needs Node 22 (libp2p 3, `using`, stable type stripping in the CLI). */
export const MIN_NODE_MAJOR = 22

/** Where the sidecar came from, in the order they are tried. */
export type SidecarSource = 'env' | 'setting' | 'bundled'

/** How to start the sidecar. */
export interface SidecarLaunch {
  /** What to execute: a Node runtime for scripts, else the sidecar itself. */
  command: string
  /** Arguments before `up ...`: the runtime's flags (SIDECAR_NODE_FLAGS) and the script for a Node runtime, nothing for an executable. */
  prefixArgs: string[]
  /** The sidecar file (script or executable). */
  sidecar: string
  sidecarSource: SidecarSource
  /** The Node runtime that runs a script sidecar; undefined for an executable sidecar. */
  runtime: string | undefined
  /** 'host' is VS Code's own runtime (`process.execPath` with ELECTRON_RUN_AS_NODE=1). */
  runtimeSource: 'setting' | 'host' | undefined
}

export interface ResolveInput {
  env: NodeJS.ProcessEnv
  /** `meshlink.sidecar.path` */
  settingPath: string | undefined
  /** `meshlink.sidecar.nodePath` */
  nodePath: string | undefined
  /** The extension's install folder (holds dist/meshlink.mjs). */
  extensionPath: string
  /** @default process.execPath */
  execPath?: string
}

/** The configured sidecar or runtime does not exist; `setting` names what to fix. */
export class SidecarNotFoundError extends Error {
  readonly name = 'SidecarNotFoundError'
  readonly path: string
  /** The env var or setting that chose the missing path; undefined for the bundled file. */
  readonly setting: string | undefined
  constructor (path: string, setting: string | undefined) {
    super(`${path} does not exist`)
    this.path = path
    this.setting = setting
  }
}

/** The Node that would run the sidecar is older than MIN_NODE_MAJOR. */
export class NodeTooOldError extends Error {
  readonly name = 'NodeTooOldError'
  readonly runtime: string
  readonly version: string
  readonly fromSetting: boolean
  constructor (runtime: string, version: string, fromSetting: boolean) {
    super(`${runtime} is Node ${version}; the MeshLink sidecar needs Node ${MIN_NODE_MAJOR} or newer`)
    this.runtime = runtime
    this.version = version
    this.fromSetting = fromSetting
  }
}

export const BUNDLED_SIDECAR = join('dist', 'meshlink.mjs')
const SCRIPT = /\.(m|c)?js$/i

/**
 * Resolution order, as rust-analyzer resolves its server: the MESHLINK_SIDECAR environment
 * variable, then the `meshlink.sidecar.path` setting, then the bundled `dist/meshlink.mjs`.
 * A `.js`/`.mjs`/`.cjs` file runs on `meshlink.sidecar.nodePath` or VS Code's own runtime;
 * anything else (say, an installed `meshlink` binary) is executed directly.
 */
export function resolveSidecar (input: ResolveInput): SidecarLaunch {
  const fromEnv = input.env.MESHLINK_SIDECAR?.trim()
  const [sidecar, sidecarSource]: [string, SidecarSource] = fromEnv
    ? [fromEnv, 'env']
    : input.settingPath ? [input.settingPath, 'setting'] : [join(input.extensionPath, BUNDLED_SIDECAR), 'bundled']
  if (!SCRIPT.test(sidecar)) {
    return { command: sidecar, prefixArgs: [], sidecar, sidecarSource, runtime: undefined, runtimeSource: undefined }
  }
  const runtime = input.nodePath ?? input.execPath ?? process.execPath
  return { command: runtime, prefixArgs: [...SIDECAR_NODE_FLAGS, sidecar], sidecar, sidecarSource, runtime, runtimeSource: input.nodePath ? 'setting' : 'host' }
}

/** Throws SidecarNotFoundError when the chosen files are missing. */
export function checkLaunchFiles (launch: SidecarLaunch, exists: (p: string) => boolean = isFile): void {
  if (!exists(launch.sidecar)) {
    throw new SidecarNotFoundError(launch.sidecar, launch.sidecarSource === 'env' ? 'MESHLINK_SIDECAR' : launch.sidecarSource === 'setting' ? 'meshlink.sidecar.path' : undefined)
  }
  if (launch.runtime !== undefined && launch.runtimeSource === 'setting' && !exists(launch.runtime)) {
    throw new SidecarNotFoundError(launch.runtime, 'meshlink.sidecar.nodePath')
  }
}

function isFile (p: string): boolean {
  try { return statSync(p).isFile() } catch { return existsSync(p) }
}

/** `v22.15.1` or `22.15.1` → [22, 15, 1]; undefined when it is not a version. */
export function parseNodeVersion (s: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(s.trim())
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined
}

/**
 * The version of the Node that would run the sidecar: VS Code's own (no process needed), or
 * `<nodePath> --version`. Throws NodeTooOldError when it is older than MIN_NODE_MAJOR.
 */
export async function checkRuntime (launch: SidecarLaunch, opts: { hostVersion?: string, signal?: AbortSignal } = {}): Promise<string | undefined> {
  if (launch.runtime === undefined) return undefined
  let version: string
  if (launch.runtimeSource === 'host') {
    version = opts.hostVersion ?? process.versions.node
  } else {
    version = await new Promise<string>((resolve, reject) => {
      execFile(launch.runtime!, ['--version'], { timeout: 10_000, signal: opts.signal, windowsHide: true }, (err, stdout) => {
        if (err) reject(new Error(`could not run ${launch.runtime} --version: ${err.message}`))
        else resolve(stdout.trim())
      })
    })
  }
  const v = parseNodeVersion(version)
  if (v === undefined || v[0] < MIN_NODE_MAJOR) throw new NodeTooOldError(launch.runtime, version.replace(/^v/, ''), launch.runtimeSource === 'setting')
  return version.replace(/^v/, '')
}
