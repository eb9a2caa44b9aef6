/**
 * For the benchmark's helper processes: exit when the benchmark goes away (our stdin closes),
 * on SIGTERM, or after a hard time limit, whichever comes first, so no helper outlives a run.
 */
export function exitWithParent (cleanup: () => Promise<void> | void, hardLimitMs = 300_000): void {
  let leaving = false
  const leave = (code: number): void => {
    if (leaving) return
    leaving = true
    const force = setTimeout(() => process.exit(code), 3_000)
    force.unref()
    Promise.resolve().then(cleanup).catch(() => {}).finally(() => process.exit(code))
  }
  process.stdin.on('end', () => leave(0))
  process.stdin.on('close', () => leave(0))
  process.stdin.resume()
  process.once('SIGTERM', () => leave(0))
  process.once('SIGINT', () => leave(0))
  const limit = setTimeout(() => {
    process.stderr.write(`hard time limit of ${hardLimitMs} ms reached; exiting\n`)
    leave(3)
  }, hardLimitMs)
  limit.unref()
}
