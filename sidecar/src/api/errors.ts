import type { ApiError as ApiErrorBody, ErrorCode } from '../gen/protocol-types.ts'
import { InvalidInviteError } from '../mesh/invite.ts'

/** An error with a protocol code; the only kind of error a method handler should throw on purpose. */
export class ApiError extends Error {
  readonly name = 'ApiError'
  readonly code: ErrorCode
  readonly data: Record<string, unknown> | undefined
  constructor (code: ErrorCode, message: string, data?: Record<string, unknown>) {
    super(message)
    this.code = code
    this.data = data
  }

  toJSON (): ApiErrorBody {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data }
  }
}

/** Maps anything thrown inside a handler to a protocol error (one place, as syncthing's errors.go). */
export function toApiError (err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (err instanceof InvalidInviteError) return new ApiError('INVALID_INVITE', err.message)
  const e = err as { name?: string, code?: string, message?: string }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return new ApiError('TIMEOUT', e.message ?? 'timed out')
  if (e?.name === 'NoValidAddressesError' || e?.name === 'DialError' || e?.name === 'UnsupportedProtocolError' ||
      e?.name === 'EncryptionFailedError' || e?.name === 'ConnectionFailedError' || e?.code === 'ECONNREFUSED') {
    return new ApiError('PEER_UNREACHABLE', e.message ?? String(err))
  }
  return new ApiError('INTERNAL', `internal error: ${e?.message ?? String(err)}`)
}
