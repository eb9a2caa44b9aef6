import { appendFileSync, renameSync, statSync } from 'node:fs'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** A scoped logger: `log.info('listening on %s', addr)`. */
export interface Logger {
  debug(msg: string, ...args: unknown[]): void
  info(msg: string, ...args: unknown[]): void
  warn(msg: string, ...args: unknown[]): void
  error(msg: string, ...args: unknown[]): void
  /** A child logger whose lines carry `scope`. */
  scope(scope: string): Logger
}

export interface LogSinkOptions {
  /** Minimum level written. @default 'info' (or $MESHLINK_LOG) */
  level?: LogLevel
  /** Also append to this file (rotated to `<file>.1` past `maxFileBytes`). */
  file?: string
  /** @default 5 MiB */
  maxFileBytes?: number
  /** Where the lines go besides the file. @default process.stderr */
  stream?: { write(s: string): unknown }
}

function format (msg: string, args: unknown[]): string {
  let i = 0
  const out = msg.replace(/%[sdoj]/g, () => {
    const a = args[i++]
    return a instanceof Error ? `${a.name}: ${a.message}` : typeof a === 'string' ? a : JSON.stringify(a)
  })
  const rest = args.slice(i).map(a => a instanceof Error ? `${a.name}: ${a.message}` : typeof a === 'string' ? a : JSON.stringify(a))
  return rest.length ? `${out} ${rest.join(' ')}` : out
}

export function isLogLevel (s: unknown): s is LogLevel {
  return typeof s === 'string' && s in ORDER
}

/** Creates the root logger: lines `2026-11-24T03:00:00.000Z INFO [scope] message` to stderr and the log file. */
export function createLogger (opts: LogSinkOptions = {}, scope = 'meshlink'): Logger {
  const envLevel = process.env.MESHLINK_LOG
  const level: LogLevel = opts.level ?? (isLogLevel(envLevel) ? envLevel : 'info')
  const stream = opts.stream ?? process.stderr
  const maxBytes = opts.maxFileBytes ?? 5 * 1024 * 1024
  let written = 0
  if (opts.file) {
    try { written = statSync(opts.file).size } catch { written = 0 }
  }
  const write = (lvl: LogLevel, sc: string, msg: string, args: unknown[]): void => {
    if (ORDER[lvl] < ORDER[level]) return
    const line = `${new Date().toISOString()} ${lvl.toUpperCase()} [${sc}] ${format(msg, args)}\n`
    stream.write(line)
    if (!opts.file) return
    try {
      if (written + line.length > maxBytes) {
        renameSync(opts.file, `${opts.file}.1`)
        written = 0
      }
      appendFileSync(opts.file, line, { mode: 0o600 })
      written += line.length
    } catch {
      // a full or vanished disk must not take the sidecar down; stderr still has the line
    }
  }
  const make = (sc: string): Logger => ({
    debug: (m, ...a) => write('debug', sc, m, a),
    info: (m, ...a) => write('info', sc, m, a),
    warn: (m, ...a) => write('warn', sc, m, a),
    error: (m, ...a) => write('error', sc, m, a),
    scope: (child) => make(`${sc}:${child}`)
  })
  return make(scope)
}
