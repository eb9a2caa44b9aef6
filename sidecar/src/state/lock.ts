import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs'

/** Thrown when another live process holds the state dir. */
export class AlreadyRunningError extends Error {
  readonly name = 'AlreadyRunningError'
  readonly pid: number
  constructor (stateDir: string, pid: number) {
    super(`a MeshLink sidecar already runs for ${stateDir} (pid ${pid})`)
    this.pid = pid
  }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes the single-instance lock of a state dir: a file created with O_EXCL holding our pid.
 * A lock left by a dead process is taken over. Returns a release function.
 */
export function acquireLock (lockPath: string, stateDir: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600)
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => {
        try {
          if (readFileSync(lockPath, 'utf8').trim() === String(process.pid)) unlinkSync(lockPath)
        } catch { /* already gone */ }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    let pid = NaN
    try { pid = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10) } catch { /* vanished: retry */ }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new AlreadyRunningError(stateDir, pid)
    try { unlinkSync(lockPath) } catch { /* someone else removed it */ }
  }
  throw new Error(`could not take the lock ${lockPath}`)
}
