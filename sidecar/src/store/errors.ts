/** A manifest that would write outside its output dir, or is malformed (from the network or a bad tree). */
export class UnsafeManifestError extends Error {
  readonly name = 'UnsafeManifestError'
}

/** Chunk bytes whose SHA-256 is not their name. */
export class CorruptChunkError extends Error {
  readonly name = 'CorruptChunkError'
  readonly hash: string
  constructor (hash: string, message = `chunk ${hash} does not match its hash`) {
    super(message)
    this.hash = hash
  }
}

/** The disk (or the store's size cap, for pinned data) has no room. */
export class NoSpaceError extends Error {
  readonly name = 'NoSpaceError'
}

/** No artifact of that id, prefix or tag is known. */
export class UnknownArtifactError extends Error {
  readonly name = 'UnknownArtifactError'
}

/** Wraps ENOSPC/EDQUOT into NoSpaceError, with where it happened; passes anything else through. */
export function diskError (err: unknown, where: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'ENOSPC' || code === 'EDQUOT') return new NoSpaceError(`no space left on the device while writing ${where}`)
  return err
}
