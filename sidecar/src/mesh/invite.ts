import { createHash } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { MESH_SECRET_BYTES } from './mesh-key.ts'

/** Every invite code starts with this: "ML" and the format version. */
export const INVITE_PREFIX = 'ML1'
const FORMAT_VERSION = 1
const CHECKSUM_BYTES = 4
const MAX_ADDRS = 16

/** What an invite carries. */
export interface Invite {
  meshName: string
  /** The mesh secret (raw bytes). */
  secret: Uint8Array
  /** The inviter's peer id (base58 string). */
  inviter: string
  /** The inviter's addresses at the time of the invite (multiaddr strings, without /p2p/). */
  addrs: string[]
}

/** An invite code that cannot be used; `message` says what is wrong with it. */
export class InvalidInviteError extends Error {
  readonly name = 'InvalidInviteError'
}

function checksum (body: Uint8Array): Uint8Array {
  return createHash('sha256').update(body).digest().subarray(0, CHECKSUM_BYTES)
}

/**
 * Encodes an invite: `ML1` + base58btc(version byte ‖ JSON payload ‖ first 4 bytes of SHA-256 of the two).
 * base58 has no punctuation, so a double-click selects the whole code and copy-paste keeps it intact.
 */
export function encodeInvite (inv: Invite): string {
  const payload = Buffer.from(JSON.stringify({
    n: inv.meshName,
    s: Buffer.from(inv.secret).toString('base64url'),
    p: inv.inviter,
    a: inv.addrs.slice(0, MAX_ADDRS)
  }))
  const body = Buffer.concat([Buffer.from([FORMAT_VERSION]), payload])
  return INVITE_PREFIX + base58btc.baseEncode(Buffer.concat([body, checksum(body)]))
}

/** Decodes and checks an invite code; throws InvalidInviteError naming the problem. */
export function decodeInvite (input: string): Invite {
  if (typeof input !== 'string') throw new InvalidInviteError('invite code must be a string')
  const code = input.replace(/\s+/g, '')
  if (code.length === 0) throw new InvalidInviteError('invite code is empty')
  if (!code.startsWith(INVITE_PREFIX)) {
    if (/^ML\d/.test(code)) throw new InvalidInviteError(`invite code format ${code.slice(0, 3)} is not supported by this version (expected ${INVITE_PREFIX})`)
    throw new InvalidInviteError(`not a MeshLink invite code (it should start with "${INVITE_PREFIX}")`)
  }
  let raw: Uint8Array
  try {
    raw = base58btc.baseDecode(code.slice(INVITE_PREFIX.length))
  } catch {
    throw new InvalidInviteError('invite code contains characters that are not base58 (was it altered when copied?)')
  }
  if (raw.length < 1 + CHECKSUM_BYTES + 2) throw new InvalidInviteError('invite code is truncated (too short)')
  const body = raw.subarray(0, raw.length - CHECKSUM_BYTES)
  const sum = raw.subarray(raw.length - CHECKSUM_BYTES)
  if (!Buffer.from(checksum(body)).equals(Buffer.from(sum))) throw new InvalidInviteError('invite code is truncated or altered (checksum mismatch): copy the whole code again')
  if (body[0] !== FORMAT_VERSION) throw new InvalidInviteError(`invite payload version ${body[0]} is not supported by this version`)
  let obj: unknown
  try {
    obj = JSON.parse(Buffer.from(body.subarray(1)).toString('utf8'))
  } catch {
    throw new InvalidInviteError('invite payload is not valid JSON')
  }
  const o = obj as Record<string, unknown>
  if (o === null || typeof o !== 'object') throw new InvalidInviteError('invite payload is not an object')
  if (typeof o.n !== 'string' || o.n.length < 1 || o.n.length > 64 || /[\u0000-\u001f\u007f]/.test(o.n)) throw new InvalidInviteError('invite has no valid mesh name')
  if (typeof o.s !== 'string') throw new InvalidInviteError('invite has no mesh secret')
  const secret = Buffer.from(o.s, 'base64url')
  if (secret.length !== MESH_SECRET_BYTES) throw new InvalidInviteError(`invite's mesh secret has ${secret.length} bytes, expected ${MESH_SECRET_BYTES}`)
  if (typeof o.p !== 'string') throw new InvalidInviteError('invite has no inviter peer id')
  try { peerIdFromString(o.p) } catch { throw new InvalidInviteError(`invite's inviter peer id "${o.p.slice(0, 60)}" is not a valid peer id`) }
  if (!Array.isArray(o.a) || o.a.length > MAX_ADDRS) throw new InvalidInviteError('invite has no valid address list')
  const addrs: string[] = []
  for (const a of o.a) {
    if (typeof a !== 'string') throw new InvalidInviteError('invite address is not a string')
    try { multiaddr(a) } catch { throw new InvalidInviteError(`invite address "${a.slice(0, 80)}" is not a valid multiaddr`) }
    addrs.push(a)
  }
  return { meshName: o.n, secret, inviter: o.p, addrs }
}
