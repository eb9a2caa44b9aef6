/**
 * Content-defined chunking sizes (FastCDC, normalized chunking level 2).
 *
 * Why 64 KiB / 256 KiB / 1 MiB rather than the 256 KiB / 1 MiB / 4 MiB of backup tools: a changed
 * region dirties about one average chunk on top of its own bytes, so the average size decides how much
 * an incremental fetch moves (issue 5's goal: 1% of a 200 MiB tree changed in scattered places moves
 * ≤ 5%; with 20 such places a 1 MiB average would move ~12%, 256 KiB ~3.5%). 256 KiB still keeps the
 * per-chunk costs (one request header, one file, one rename) small: 4096 chunks per GiB, and enough
 * units to split a 400 MiB artifact between seeders by their rates (~1600 chunks). A maximum of 1 MiB
 * fits in one length-prefixed frame and a quarter of a yamux stream window (node/constants.ts).
 */
export const CHUNK_MIN_BYTES = 64 * 1024
export const CHUNK_AVG_BYTES = 256 * 1024
export const CHUNK_MAX_BYTES = 1024 * 1024

/** Read size when cutting files; memory per file being published is about this plus one chunk. */
export const READ_BLOCK_BYTES = 4 * 1024 * 1024

/** Default size cap of the store (bytes of chunk data); least recently used unpinned artifacts go first. */
export const DEFAULT_STORE_CAP_BYTES = 20 * 1024 * 1024 * 1024

/** Limits on manifests (they come from the network too). */
export const MANIFEST_MAX_BYTES = 64 * 1024 * 1024
export const MANIFEST_MAX_ENTRIES = 1_000_000
export const PATH_MAX_BYTES = 4096

/** Output files a fetch keeps open between chunk writes (more are reopened as needed). */
export const OPEN_OUTPUT_FILES = 64
/** Chunks copied from the store into an output tree at once (reads and writes overlap). */
export const STORE_COPY_CONCURRENCY = 4
