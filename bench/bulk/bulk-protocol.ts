/** Protocol ids and messages shared by the bulk benchmark's peers and its driver. */

/** The bulk sink: the dialer writes N bytes and half-closes; the listener acks N as a u64 (big-endian). */
export const BULK_PROTOCOL = '/meshlink-bench/bulk/1'
/** Returns the listener process's CPU time so far (µs, decimal text). */
export const CPU_PROTOCOL = '/meshlink-bench/cpu/1'
/** Environment variable that hands both member processes the same throwaway mesh secret. */
export const MESH_SECRET_ENV = 'MESHLINK_BENCH_MESH_SECRET'

/** member: the project's createMeshNode; plain: createLibp2p(tcp, noise(), yamux()). */
export type BulkConfig = 'member' | 'plain'

export type MeasureResult =
  | { ok: true, MBps: number, seconds: number, senderCpuPct: number, receiverCpuPct: number }
  | { ok: false, error: string, redialed: boolean }
