// A quick, local check of an invite code as it is typed, so the input box can say what is wrong
// before anything is sent. The sidecar does the real check (checksum, payload) and answers
// INVALID_INVITE; this only catches what is visible: prefix, alphabet, an obviously cut-off code.
import type { Translate } from './l10n.ts'

/** Must equal INVITE_PREFIX in sidecar/src/mesh/invite.ts (a unit test checks it). */
export const INVITE_PREFIX = 'ML1'
/** base58btc: no 0, O, I or l. */
const BASE58 = /^[1-9A-HJ-NP-Za-km-z]*$/
/** A real code carries a 32-byte secret, a peer id and addresses: far longer than this. */
const MIN_LENGTH = 60

/** An invite code that fails the local check (the sidecar's INVALID_INVITE covers the rest). */
export class InvalidInviteCodeError extends Error {
  readonly name = 'InvalidInviteCodeError'
}

/** Whitespace and line breaks that chat tools insert are not part of a code. */
export function normalizeInviteCode (input: string): string {
  return input.replace(/\s+/g, '')
}

/** undefined when the code may be valid; otherwise what is wrong with it. */
export function checkInviteCode (input: string, t: Translate): string | undefined {
  const code = normalizeInviteCode(input)
  if (code === '') return t('Paste the invite code a teammate sent you (it starts with {0}).', INVITE_PREFIX)
  if (!code.startsWith(INVITE_PREFIX)) {
    if (/^ML\d/.test(code)) return t('This invite code has format {0}, which this version of MeshLink does not read (it reads {1}). Update MeshLink.', code.slice(0, 3), INVITE_PREFIX)
    return t('MeshLink invite codes start with {0}.', INVITE_PREFIX)
  }
  const body = code.slice(INVITE_PREFIX.length)
  if (!BASE58.test(body)) {
    const bad = [...new Set(body.replace(/[1-9A-HJ-NP-Za-km-z]/g, ''))].slice(0, 5).join(' ')
    return t('The invite code contains characters that cannot be in one ({0}); was it changed when copied?', bad)
  }
  if (code.length < MIN_LENGTH) return t('The invite code is too short; copy the whole code again.')
  return undefined
}
