import { cpus, loadavg, release, totalmem } from 'node:os'
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from './paths.ts'

export interface MachineInfo {
  node: string
  cpu: string
  cores: number
  memGiB: number
  kernel: string
  /** 1-minute load average when the run started. */
  load1: number
  commit: string
  /** Uncommitted changes under sidecar/ when the run started (the numbers may not match the commit). */
  sidecarDirty: boolean
  packages: Record<string, string>
}

const PACKAGES = ['libp2p', '@libp2p/tcp', '@chainsafe/libp2p-noise', '@chainsafe/libp2p-yamux', 'zeromq']

function git (args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}

export function machineInfo (): MachineInfo {
  const packages: Record<string, string> = {}
  for (const p of PACKAGES) {
    try {
      packages[p] = (JSON.parse(readFileSync(join(ROOT, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version
    } catch {
      packages[p] = '?'
    }
  }
  return {
    node: process.version,
    cpu: cpus()[0]?.model ?? '?',
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    load1: loadavg()[0],
    commit: git(['rev-parse', '--short', 'HEAD']) || '?',
    sidecarDirty: git(['status', '--porcelain', '--', 'sidecar', 'esbuild.mjs']) !== '',
    packages
  }
}
