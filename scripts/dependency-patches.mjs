// Source patches applied to libp2p dependencies when esbuild bundles the sidecar (node_modules is
// never modified). Each fixes a cost or a limit a benchmark measured, and its `why` says which:
// - `npm run bench:forward` (bench/results/forward-analysis-2026-11-24.md): a forwarded HTTP request
//   paid five socket writes per sidecar where ssh pays two, and one Noise encryption per yamux frame;
// - `npm run bench:sync` (bench/results/sync-analysis-2026-11-24-f.md and -g.md): copies of every
//   byte in the TCP and Noise paths, and yamux stream windows stuck at 256 KiB on a LAN.
// All are candidates to upstream; a patch that no longer applies (the dependency changed) fails the
// build, so an upgrade cannot drop one silently.
import { readFile } from 'node:fs/promises'

export const PATCHES = [
  {
    why: 'yamux: a stream starts at the spec\'s 256 KiB window in both directions, and a larger configured receive window (initialStreamWindowSize) is advertised to the peer in the SYN/ACK window update, as go-yamux does. js-yamux 8 instead assumed the peer had the larger window too (not what the spec says), so MeshLink could not open streams with more than 256 KiB without breaking peers that follow the spec; and its RTT-based growth never fires on a LAN (whole-millisecond RTT of 0 or 1), which left every stream at 256 KiB there',
    file: '@chainsafe/libp2p-yamux/dist/src/stream.js',
    from: `            maxMessageSize: initialWindowSize - HEADER_LENGTH
        });
        this.streamId = init.streamId;
        this.state = init.state;
        this.sendWindowCapacity = initialWindowSize;
        this.recvWindow = initialWindowSize;
        this.recvWindowCapacity = this.recvWindow;`,
    to: `            maxMessageSize: INITIAL_STREAM_WINDOW - HEADER_LENGTH
        });
        this.streamId = init.streamId;
        this.state = init.state;
        this.sendWindowCapacity = INITIAL_STREAM_WINDOW;
        this.recvWindow = initialWindowSize;
        this.recvWindowCapacity = INITIAL_STREAM_WINDOW;`
  },
  {
    why: 'yamux: send a window update once half the receive window is used (as go-yamux does), not one update frame (a write, an encryption) per data frame received',
    file: '@chainsafe/libp2p-yamux/dist/src/stream.js',
    from: 'if (this.recvWindowCapacity >= this.recvWindow && flags === 0) {',
    to: 'if (flags === 0 && (this.recvWindow - this.recvWindowCapacity) < (this.recvWindow >>> 1)) {'
  },
  {
    why: 'tcp: write the parts of the Noise messages (2-byte length, ciphertext, tag) corked, so they leave in one writev syscall and TCP segment run instead of one each, without copying them into one buffer first (a copy and a new buffer for every byte sent: GC pressure)',
    file: '@libp2p/tcp/dist/src/socket-to-conn.js',
    from: `        for (const buf of data) {
            sentBytes += buf.byteLength;
            canSendMore = this.socket.write(buf);
            if (!canSendMore) {
                break;
            }
        }`,
    to: `        sentBytes = data.byteLength;
        if (data instanceof Uint8Array) {
            canSendMore = this.socket.write(data);
        }
        else {
            this.socket.cork();
            for (const buf of data) {
                canSendMore = this.socket.write(buf);
            }
            this.socket.uncork();
        }`
  },
  {
    why: 'noise: make the in-place destination only for a contiguous message; for one that spans reads it was a copy of the whole message (subarray of a list) that node:crypto then ignores',
    file: '@chainsafe/libp2p-noise/dist/src/utils.js',
    from: '            const dst = chunk.subarray(i, end - CHACHA_TAG_LENGTH);',
    to: '            const dst = chunk instanceof Uint8Array ? chunk.subarray(i, end - CHACHA_TAG_LENGTH) : undefined;'
  },
  {
    why: 'length-prefixed decoder: stop when the buffer is empty instead of asking the length decoder, which throws (a RangeError with a stack trace, ~3 µs) at the end of every read; 6 % of a forwarding sidecar\'s CPU',
    file: '@libp2p/utils/dist/src/length-prefixed-decoder.js',
    from: `        while (true) {
            let dataLength;`,
    to: `        while (this.buffer.byteLength > 0) {
            let dataLength;`
  },
  // Frame batching: the frames all streams of a connection send during one event-loop turn go to the
  // encrypter together (setImmediate; at once past BATCH_BYTES), so 32 small responses cost one Noise
  // message, one write syscall and one decryption on the other side instead of 32 of each.
  // Backpressure is kept: once the connection reports "full", send() answers false (streams queue in
  // their own write buffers) until its 'drain'; at most BATCH_BYTES plus one turn's frames wait here.
  {
    why: 'stream muxer: import Uint8ArrayList for the frame batch',
    file: '@libp2p/utils/dist/src/abstract-stream-muxer.js',
    from: "import { MuxerClosedError, TypedEventEmitter } from '@libp2p/interface';",
    to: "import { MuxerClosedError, TypedEventEmitter } from '@libp2p/interface';\nimport { Uint8ArrayList } from 'uint8arraylist';\nconst BATCH_BYTES = 65536;"
  },
  {
    why: 'stream muxer: collect the frames of one event-loop turn and send them to the connection at once',
    file: '@libp2p/utils/dist/src/abstract-stream-muxer.js',
    from: `    send(data) {
        const result = this.maConn.send(data);`,
    to: `    send(data) {
        (this.batchFrames ??= []).push(data);
        this.batchBytes = (this.batchBytes ?? 0) + data.byteLength;
        if (this.batchBytes >= BATCH_BYTES) {
            return this.flushBatch();
        }
        if (this.batchScheduled !== true) {
            this.batchScheduled = true;
            setImmediate(() => {
                this.batchScheduled = false;
                try {
                    this.flushBatch();
                }
                catch (err) {
                    this.abort(err);
                    this.maConn.abort(err);
                }
            });
        }
        return this.connectionFull !== true;
    }
    /** Sends the frames collected so far as one message; returns false while the connection is full. */
    flushBatch() {
        const frames = this.batchFrames;
        this.batchFrames = undefined;
        this.batchBytes = 0;
        if (frames == null || frames.length === 0) {
            return this.connectionFull !== true;
        }
        const result = this.maConn.send(frames.length === 1 ? frames[0] : new Uint8ArrayList(...frames));
        this.connectionFull = result === false;`
  },
  {
    why: 'stream muxer: the connection drained, so send() may answer true again',
    file: '@libp2p/utils/dist/src/abstract-stream-muxer.js',
    from: '        const muxerMaConnOnDrain = () => {',
    to: `        const muxerMaConnOnDrain = () => {
            this.connectionFull = false;`
  },
  {
    why: 'yamux: a closing muxer sends its batched frames (streams\' last data and FINs, GoAway) before the connection closes',
    file: '@chainsafe/libp2p-yamux/dist/src/muxer.js',
    from: `            await super.close(options);
            // send reason to the other side, allow the other side to close gracefully
            this.sendGoAway(reason);`,
    to: `            await super.close(options);
            // send reason to the other side, allow the other side to close gracefully
            this.sendGoAway(reason);
            this.flushBatch();`
  },
  {
    why: 'yamux: an aborting muxer sends its GoAway (and what was batched before) at once, as it did unbatched',
    file: '@chainsafe/libp2p-yamux/dist/src/muxer.js',
    from: `            this.log.error('muxer abort reason=%s error=%s', reason, err);
            // send reason to the other side, allow the other side to close gracefully
            this.sendGoAway(reason);`,
    to: `            this.log.error('muxer abort reason=%s error=%s', reason, err);
            // send reason to the other side, allow the other side to close gracefully
            this.sendGoAway(reason);
            this.flushBatch();`
  }
]

/** An esbuild plugin applying PATCHES; the build fails unless every patch applied exactly once. */
export function dependencyPatches () {
  const applied = new Set()
  return {
    name: 'meshlink-dependency-patches',
    setup (build) {
      build.onLoad({ filter: /(libp2p-yamux\/dist\/src\/(stream|muxer)|libp2p-noise\/dist\/src\/utils|libp2p\/tcp\/dist\/src\/socket-to-conn|libp2p\/utils\/dist\/src\/(abstract-stream-muxer|length-prefixed-decoder))\.js$/ }, async (args) => {
        let src = await readFile(args.path, 'utf8')
        for (const [i, p] of PATCHES.entries()) {
          if (!args.path.endsWith(p.file)) continue
          if (!src.includes(p.from)) throw new Error(`dependency patch for ${p.file} does not apply (the dependency changed?): ${p.why}`)
          src = src.replace(p.from, p.to)
          applied.add(i)
        }
        return { contents: src, loader: 'js' }
      })
      build.onEnd((result) => {
        if (result.errors.length > 0) return
        const missing = PATCHES.filter((_, i) => !applied.has(i))
        if (missing.length > 0) throw new Error(`dependency patches not applied (file not bundled?): ${missing.map(p => p.file).join(', ')}`)
      })
    }
  }
}
