import { createHash, createHmac, randomBytes } from 'node:crypto'
import type { Mesh } from '../gen/protocol-types.ts'

/** Length of a mesh secret in bytes. */
export const MESH_SECRET_BYTES = 32

/** A mesh as stored on disk: the public record plus its secret (base64url). */
export interface MeshRecord extends Mesh {
  secret: string
}

/** The id of the mesh a secret defines: 16 hex chars of SHA-256("meshlink/mesh-id/v1" ‖ secret). */
export function meshIdFromSecret (secret: Uint8Array): string {
  return createHash('sha256').update('meshlink/mesh-id/v1\0').update(secret).digest('hex').slice(0, 16)
}

export function newMeshRecord (name: string, personal: boolean, secret: Uint8Array = randomBytes(MESH_SECRET_BYTES)): MeshRecord {
  return { id: meshIdFromSecret(secret), name, personal, createdAt: new Date().toISOString(), secret: Buffer.from(secret).toString('base64url') }
}

export function meshSecretBytes (mesh: MeshRecord): Uint8Array {
  return Buffer.from(mesh.secret, 'base64url')
}

/** The public part of a mesh record (never send the secret over the API). */
export function publicMesh (mesh: MeshRecord): Mesh {
  return { id: mesh.id, name: mesh.name, personal: mesh.personal, createdAt: mesh.createdAt }
}

/**
 * The Noise prologue that binds every handshake to the mesh (Noise spec §6, "Prologue"): both sides
 * mix it into the handshake hash, so a peer without the secret computes a different hash and the
 * handshake fails at its first authenticated message. Costs nothing after the handshake.
 */
export function noisePrologue (mesh: MeshRecord): Uint8Array {
  return createHmac('sha256', meshSecretBytes(mesh)).update('meshlink/noise-prologue/v1').digest()
}

/**
 * The mDNS service tag of a mesh: only nodes with the same secret query and answer the same name,
 * so meshes on one LAN neither see nor disturb each other, and the tag does not reveal the mesh.
 */
export function mdnsServiceTag (mesh: MeshRecord): string {
  const h = createHmac('sha256', meshSecretBytes(mesh)).update('meshlink/mdns-tag/v1').digest('hex').slice(0, 12)
  return `_ml-${h}._udp.local`
}
