import { parseArgs } from 'node:util'
import { up } from './commands/up.ts'
import { status, peers, invite, join, leave, create, name, ping, stop } from './commands/client-commands.ts'
import { share, unshare, services, open, close, forwards } from './commands/service-commands.ts'
import { publish, fetch, artifacts, pin, unpin, store } from './commands/artifact-commands.ts'
import { COMMON_OPTIONS, type Command } from './command.ts'
import { EXIT, UsageError } from './exit-codes.ts'
import { MeshlinkError, ClientTimeoutError } from '../client/client.ts'
import { NotRunningError } from '../daemon/api-info.ts'
import { MIN_NODE_MAJOR, VERSION } from '../version.ts'

const COMMANDS: Command[] = [up, status, peers, invite, join, leave, create, name, ping, share, unshare, services, open, close, forwards, publish, fetch, artifacts, pin, unpin, store, stop]

function optionHelp (opts: Command['options']): string {
  return Object.entries(opts).map(([k, o]) => `  --${k}${o.type === 'string' ? ' ' + (o.multiple ? 'VALUE...' : 'VALUE') : ''}`.padEnd(28) + o.help).join('\n')
}

function mainHelp (): string {
  return [
    `meshlink ${VERSION}: share dev servers and build artifacts with your team over an encrypted LAN-first mesh`,
    '',
    'usage: meshlink <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map(c => `  ${c.name.padEnd(10)}${c.summary}`),
    '',
    'every command takes --state DIR (or $MESHLINK_STATE) and --help; client commands take --json.',
    'exit codes: 0 ok, 1 the sidecar reported an error, 2 bad command line, 3 no sidecar running or not answering, 4 a sidecar already runs (up)'
  ].join('\n')
}

function commandHelp (c: Command): string {
  return [`usage: ${c.usage}`, '', c.summary, '', 'options:', optionHelp({ ...c.options, ...COMMON_OPTIONS })].join('\n')
}

/** Runs the CLI; returns the exit code (never throws). */
export async function main (argv: string[]): Promise<number> {
  const major = Number(process.versions.node.split('.')[0])
  if (major < MIN_NODE_MAJOR) {
    process.stderr.write(`meshlink: needs Node >= ${MIN_NODE_MAJOR}, this is ${process.version}; run \`npm install\` in the MeshLink folder (it brings Node 22) or set MESHLINK_NODE\n`)
    return EXIT.USAGE
  }
  const [cmdName, ...rest] = argv
  if (cmdName === undefined || cmdName === '--help' || cmdName === '-h' || cmdName === 'help') {
    process.stdout.write(mainHelp() + '\n')
    return cmdName === undefined ? EXIT.USAGE : EXIT.OK
  }
  if (cmdName === '--version' || cmdName === 'version') {
    process.stdout.write(VERSION + '\n')
    return EXIT.OK
  }
  const cmd = COMMANDS.find(c => c.name === cmdName)
  if (!cmd) {
    process.stderr.write(`meshlink: unknown command "${cmdName}"\n\n${mainHelp()}\n`)
    return EXIT.USAGE
  }
  try {
    const options = Object.fromEntries(Object.entries({ ...cmd.options, ...COMMON_OPTIONS }).map(([k, o]) => [k, { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) }]))
    let parsed
    try {
      parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true })
    } catch (err) {
      throw new UsageError((err as Error).message.replace(/^TypeError \[\w+\]: /, ''))
    }
    if (parsed.values.help === true) {
      process.stdout.write(commandHelp(cmd) + '\n')
      return EXIT.OK
    }
    const p = cmd.positionals ?? { min: 0, max: 0, names: '' }
    if (parsed.positionals.length < p.min) throw new UsageError(`missing ${p.names}`)
    if (parsed.positionals.length > p.max) throw new UsageError(`unexpected argument "${parsed.positionals[p.max]}"`)
    return await cmd.run(parsed.values as Record<string, string | boolean | string[] | boolean[] | undefined>, parsed.positionals)
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`meshlink ${cmd.name}: ${err.message}\nusage: ${cmd.usage}\n`)
      return EXIT.USAGE
    }
    if (err instanceof MeshlinkError) {
      process.stderr.write(`meshlink ${cmd.name}: ${err.message} [${err.code}]\n`)
      return EXIT.FAILED
    }
    if (err instanceof NotRunningError || err instanceof ClientTimeoutError) {
      process.stderr.write(`meshlink ${cmd.name}: ${err.message}\n`)
      return EXIT.NOT_RUNNING
    }
    process.stderr.write(`meshlink ${cmd.name}: ${(err as Error).stack ?? String(err)}\n`)
    return EXIT.FAILED
  }
}
