import type { Summary } from '../lib/stats.ts'
import type { Log } from './common.ts'
export interface LanScenario { aria2c: Summary, meshlink: Summary, ratioOfMedians: number, allVerified: boolean, meshlinkFailures: number, notes: string[] }
export interface LanRun { scenario: string, tool: string, round: number, MBps: number, seconds: number, detail: string }
export interface LanResult { skipped?: string, description: string, scenarios: Record<string, LanScenario>, runs: LanRun[] }
export async function runLan (o: { sizeMiB: number, rounds: number, nodeArgs: (role: string) => string[], log: Log }): Promise<LanResult> {
  return { skipped: 'not yet', description: '', scenarios: {}, runs: [] }
}
