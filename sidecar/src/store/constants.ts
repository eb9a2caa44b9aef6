/**
 * Content-defined chunking sizes (FastCDC, normalized chunking level 2).
 *
 * The average size decides how much an incremental fetch moves: a changed region dirties its own bytes
 * plus about one (size-biased) chunk. Issue 5's goal: 1% of a 200 MiB tree changed in scattered places
 * moves ≤ 5%. Simulated with this chunker on bench:sync's tree (100 files of 2 MiB, 20 regions of
 * 102 KiB; 4 random trees each): 64/256/1024 KiB moved 4.9–5.8 % (mean 5.2: the goal missed about
 * every other run), 48/192/768 KiB 3.3–5.5 %, **32/128/512 KiB 3.3–4.2 % (mean 3.75)**; with 200
 * regions of 10 KiB: 32 %, 27 %, 17 %. 128 KiB keeps the per-chunk costs (a request header, an index record)
 * affordable: 8192 chunks per GiB.
 */
export const CHUNK_MIN_BYTES = 32 * 1024
export const CHUNK_AVG_BYTES = 128 * 1024
export const CHUNK_MAX_BYTES = 512 * 1024
/**
 * The largest chunk a manifest may name (from any publisher, whatever sizes it cut with): one
 * length-prefixed frame of the chunk protocol and a quarter of a yamux stream window (node/constants.ts).
 */
export const MANIFEST_CHUNK_MAX_BYTES = 1024 * 1024

/** Read size when cutting files; memory per file being published is about this plus one chunk. */
export const READ_BLOCK_BYTES = 4 * 1024 * 1024

/** Default size cap of the store (bytes of chunk data); least recently used unpinned artifacts go first. */
export const DEFAULT_STORE_CAP_BYTES = 20 * 1024 * 1024 * 1024

/** Limits on manifests (they come from the network too). */
export const MANIFEST_MAX_BYTES = 64 * 1024 * 1024
export const MANIFEST_MAX_ENTRIES = 1_000_000
export const PATH_MAX_BYTES = 4096

/**
 * Chunk store pack files (store/chunk-store.ts): a new pack is started past this size, so a pack
 * mostly holds the chunks of one or a few artifacts and is often deleted whole when they go.
 */
export const PACK_MAX_BYTES = 256 * 1024 * 1024
/**
 * Adjacent chunks gathered by gathered-io.ts (appended to a pack, written to an output file, read from
 * a pack) go out in one call of at most this many bytes and buffers (IOV_MAX is 1024).
 */
export const WRITE_BATCH_BYTES = 4 * 1024 * 1024
export const WRITE_BATCH_PARTS = 256
/**
 * Packs that are at least half dead space are compacted (live chunks copied, the pack deleted) once the
 * store's dead space passes this and a quarter of its live data.
 */
export const COMPACT_MIN_DEAD_BYTES = 64 * 1024 * 1024

/**
 * Output files of at least this size are hard-linked into the store while a fetch writes them (linked
 * packs, store/pack-file.ts), so their chunks are written once instead of also being copied into a
 * pack. On the 2-vCPU bench VM writing every byte twice was about 2 CPU s per GiB fetched, 41 % of the
 * fetcher's CPU. Smaller files are copied: a linked file costs an index file and a descriptor while
 * it is written.
 */
export const LINK_MIN_FILE_BYTES = 1024 * 1024
/** Descriptors of linked packs kept open (reads, index appends); idle ones past this are closed. */
export const OPEN_LINKED_FILES = 64

/** Output files a fetch keeps open between chunk writes (more are reopened as needed). */
export const OPEN_OUTPUT_FILES = 64
/** Chunks copied from the store into an output tree at once (reads and writes overlap). */
export const STORE_COPY_CONCURRENCY = 4
