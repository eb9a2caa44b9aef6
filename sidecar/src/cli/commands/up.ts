import { Sidecar } from '../../daemon/sidecar.ts'
import { AlreadyRunningError } from '../../state/lock.ts'
import { createLogger, isLogLevel } from '../../log/logger.ts'
import { resolveStateDir, statePaths } from '../../state/paths.ts'
import { multiaddr } from '@multiformats/multiaddr'
import { EXIT, UsageError } from '../exit-codes.ts'
import type { Command } from '../command.ts'

const PARENT_POLL_MS = 1000

export const up: Command = {
  name: 'up',
  summary: 'run the sidecar in the foreground (creates a personal mesh on first start)',
  usage: 'meshlink up [--state DIR] [--name NAME] [--listen ADDR]... [--bootstrap ADDR]... [--no-mdns] [--handshake] [--parent-pid PID] [--log-level LEVEL]',
  options: {
    name: { type: 'string', help: 'display name shown to teammates (default user@host; persists)' },
    listen: { type: 'string', multiple: true, help: 'multiaddr to accept mesh connections on (default /ip4/0.0.0.0/tcp/4455, falling back to a free port)' },
    bootstrap: { type: 'string', multiple: true, help: 'member multiaddr (with /p2p/ID) to dial at start' },
    'no-mdns': { type: 'boolean', help: 'do not discover or announce on the LAN with mDNS' },
    handshake: { type: 'boolean', help: 'print the API info (api.json) as one JSON line on stdout once ready' },
    'parent-pid': { type: 'string', help: 'exit when this process is gone (used by the editor extension)' },
    'log-level': { type: 'string', help: 'debug | info | warn | error (default info, or $MESHLINK_LOG)' }
  },
  async run (v) {
    const stateDir = resolveStateDir(v.state as string | undefined)
    const level = v['log-level'] as string | undefined
    if (level !== undefined && !isLogLevel(level)) throw new UsageError(`--log-level must be debug, info, warn or error, not "${level}"`)
    const name = v.name as string | undefined
    if (name !== undefined && (name.length < 1 || name.length > 64 || /[\u0000-\u001f\u007f]/.test(name))) throw new UsageError('--name must be 1 to 64 characters without control characters')
    const checkAddrs = (flag: string, list: string[] | undefined, needPeer: boolean): void => {
      for (const a of list ?? []) {
        try { multiaddr(a) } catch (err) { throw new UsageError(`--${flag} "${a}" is not a multiaddr: ${(err as Error).message}`) }
        if (needPeer && !a.includes('/p2p/')) throw new UsageError(`--${flag} "${a}" must end in /p2p/<peer id>`)
      }
    }
    checkAddrs('listen', v.listen as string[] | undefined, false)
    checkAddrs('bootstrap', v.bootstrap as string[] | undefined, true)
    let parentPid: number | undefined
    if (v['parent-pid'] !== undefined) {
      parentPid = Number(v['parent-pid'])
      if (!Number.isInteger(parentPid) || parentPid <= 0) throw new UsageError(`--parent-pid must be a process id, not "${v['parent-pid']}"`)
    }
    const log = createLogger({ ...(isLogLevel(level) ? { level } : {}), file: statePaths(stateDir).log })
    // a daemon keeps serving: a stray rejection in a libp2p callback is a bug to log, not a reason to drop every peer
    process.on('unhandledRejection', (err) => log.error('unhandled rejection (please report): %s', (err as Error)?.stack ?? err))
    let sidecar: Sidecar
    try {
      sidecar = await Sidecar.start({
        stateDir,
        ...(name !== undefined ? { name } : {}),
        ...(v.listen !== undefined ? { listen: v.listen as string[] } : {}),
        bootstrap: (v.bootstrap as string[] | undefined) ?? [],
        mdns: v['no-mdns'] !== true,
        log
      })
    } catch (err) {
      if (err instanceof AlreadyRunningError) {
        process.stderr.write(`meshlink: ${err.message}\n`)
        return EXIT.ALREADY_RUNNING
      }
      throw err
    }
    let signals = 0
    const onSignal = (sig: string): void => {
      if (++signals > 1) process.exit(EXIT.FAILED)
      void sidecar.shutdown(sig)
    }
    process.on('SIGINT', () => onSignal('SIGINT'))
    process.on('SIGTERM', () => onSignal('SIGTERM'))
    if (parentPid !== undefined) {
      const t = setInterval(() => {
        try { process.kill(parentPid, 0) } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ESRCH') { clearInterval(t); void sidecar.shutdown(`parent process ${parentPid} is gone`) }
        }
      }, PARENT_POLL_MS)
      t.unref()
    }
    // announce readiness only now: whoever reads the handshake may send SIGTERM at once, and before
    // the handlers above exist that signal would kill the process without a clean shutdown
    if (v.handshake === true) process.stdout.write(JSON.stringify(sidecar.info) + '\n')
    else {
      const st = sidecar.status()
      process.stderr.write(`meshlink: up as "${st.name}" (${st.peerId}) in mesh "${st.mesh.name}"; API in ${stateDir}/api.json; Ctrl-C to stop\n`)
    }
    await sidecar.closed
    // everything is closed; don't wait for libp2p's stray timers to let the event loop drain
    setTimeout(() => process.exit(process.exitCode ?? EXIT.OK), 0)
    return EXIT.OK
  }
}
