import { main } from './cli/main.ts'

// The single entry of dist/meshlink.mjs: the CLI, whose `up` command runs the sidecar.
main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err) => {
  process.stderr.write(`meshlink: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
