// Starts one sidecar process the way vscode-languageclient starts a server: VS Code's own runtime
// with ELECTRON_RUN_AS_NODE=1 (or the configured one), --parent-pid so it exits with the editor,
// stderr line by line into the log, and the handshake (the API info) read from stdout.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { ApiInfo } from '../../../sidecar/src/daemon/api-info.ts'
import { SidecarExitedError } from './errors.ts'
import { EXIT_ALREADY_RUNNING, parseLogLine, readHandshake } from './handshake.ts'
import type { SidecarLaunch } from './resolve.ts'

/** LogOutputChannel fits this. */
export interface Log {
  debug(message: string, ...args: unknown[]): void
  info(message: string, ...args: unknown[]): void
  warn(message: string, ...args: unknown[]): void
  error(message: string | Error, ...args: unknown[]): void
}

/** Everything needed to start a sidecar, resolved from settings at each start. */
export interface StartPlan {
  stateDir: string
  launch: SidecarLaunch
  /** `up --handshake ...` */
  args: string[]
  env: NodeJS.ProcessEnv
}

export type SpawnOutcome =
  | { kind: 'ready', info: ApiInfo, child: ChildProcess }
  /** `meshlink up` exited with 4: another sidecar holds the state dir. */
  | { kind: 'already-running' }

/** Lines of stderr kept for the error when the process dies before its handshake. */
const STDERR_TAIL_LINES = 20

/** Spawns the sidecar and waits (bounded) for its handshake; throws SidecarExitedError when it dies first. */
export async function spawnSidecar (plan: StartPlan, log: Log, signal: AbortSignal, handshakeTimeoutMs: number): Promise<SpawnOutcome> {
  const { launch } = plan
  const args = [...launch.prefixArgs, ...plan.args]
  log.info(`starting the sidecar: ${launch.command} ${args.join(' ')} (sidecar from ${launch.sidecarSource}${launch.runtimeSource ? `, runtime from ${launch.runtimeSource}` : ''})`)
  const child = spawn(launch.command, args, {
    env: { ...plan.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true
  })
  const tail: string[] = []
  const pid = child.pid
  createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', (line) => {
    tail.push(line)
    if (tail.length > STDERR_TAIL_LINES) tail.shift()
    const { level, text } = parseLogLine(line)
    log[level](`[sidecar${pid ? ` ${pid}` : ''}] ${text}`)
  })
  const spawnFailed = new Promise<never>((_resolve, reject) => {
    child.once('error', (err) => reject(new SidecarExitedError(null, null, `${launch.command}: ${err.message}`)))
  })
  const timeout = AbortSignal.timeout(handshakeTimeoutMs)
  let outcome
  try {
    outcome = await Promise.race([readHandshake(child, AbortSignal.any([signal, timeout])), spawnFailed])
  } catch (err) {
    if (child.exitCode === null) child.kill('SIGKILL')
    if (timeout.aborted && !signal.aborted) throw new SidecarExitedError(null, null, `no handshake within ${handshakeTimeoutMs} ms\n${tail.join('\n')}`)
    throw err
  }
  if (outcome.kind === 'ready') return { kind: 'ready', info: outcome.info, child }
  if (outcome.code === EXIT_ALREADY_RUNNING) return { kind: 'already-running' }
  throw new SidecarExitedError(outcome.code, outcome.signal, tail.join('\n'))
}
