import { readJsonFile, writeJsonFileAtomic } from '../state/json-file.ts'
import { meshIdFromSecret, MESH_SECRET_BYTES, type MeshRecord } from './mesh-key.ts'

/** Reads the current mesh (with its secret) from mesh.json; undefined when there is none yet. */
export function loadMesh (path: string): MeshRecord | undefined {
  const o = readJsonFile(path) as Partial<MeshRecord> | undefined
  if (o === undefined) return undefined
  const secret = typeof o.secret === 'string' ? Buffer.from(o.secret, 'base64url') : Buffer.alloc(0)
  if (secret.length !== MESH_SECRET_BYTES || typeof o.name !== 'string') throw new Error(`${path} does not hold a valid mesh (move it away to start a new personal mesh)`)
  return {
    id: meshIdFromSecret(secret),
    name: o.name,
    personal: o.personal === true,
    createdAt: typeof o.createdAt === 'string' ? o.createdAt : new Date(0).toISOString(),
    secret: o.secret as string
  }
}

/** Saves the mesh (0600: it holds the secret). */
export function saveMesh (path: string, mesh: MeshRecord): void {
  writeJsonFileAtomic(path, mesh, 0o600)
}
