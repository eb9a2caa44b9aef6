import { lpStream, type LengthPrefixedStreamOpts } from '@libp2p/utils'
import type { MessageStream } from '@libp2p/interface'

type Uint8ArrayList = Parameters<LengthPrefixedStreamOpts['lengthDecoder']>[0]

/** The longest varint length prefix taken (7 bits each: far beyond any frame a stream allows). */
const MAX_PREFIX_BYTES = 8

/**
 * lpStream reads a length prefix one byte at a time and asks its decoder after each byte; the decoder
 * throws a RangeError while the varint is unfinished. The default decoder makes a new RangeError
 * each time (a stack trace captured for every unfinished byte: two per frame of 16 KiB or more, which
 * was ~5 % of a LAN downloader's main thread). This one throws the same object.
 */
const UNFINISHED = new RangeError('the length prefix goes on')

/** Decodes an unsigned varint length prefix; throws UNFINISHED while it goes on, and an Error past 8 bytes. */
export function decodeLengthPrefix (data: Uint8ArrayList): number {
  const n = data.byteLength
  if (n > MAX_PREFIX_BYTES) throw new Error(`a length prefix longer than ${MAX_PREFIX_BYTES} bytes`)
  let value = 0
  let scale = 1
  for (let i = 0; i < n; i++) {
    const b = data.get(i)
    value += (b & 0x7f) * scale
    if (b < 0x80) return value
    scale *= 128
  }
  throw UNFINISHED
}

/** lpStream (unsigned varint length prefixes) with the cheaper prefix decoder: every framed protocol here uses it. */
export function framedStream<T extends MessageStream> (stream: T, opts: Partial<LengthPrefixedStreamOpts> = {}): ReturnType<typeof lpStream<T>> {
  return lpStream(stream, { ...opts, lengthDecoder: decodeLengthPrefix })
}
