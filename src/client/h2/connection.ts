/**
 * The client's own HTTP/2 connection (RFC 9113) over a `node:net` socket — a unix socket or plain
 * TCP; TLS stays with node:http2 (node-session.ts). node:http2 alone loaded ~94 built-in modules
 * (http, tls, crypto, assert, readline…) into every CLI command that talks to the daemon
 * (issue 10, docs/benchmarks.md); this is the part of it a gRPC client needs:
 *
 * - the preface and SETTINGS (push off, a 4 MiB stream window), answered SETTINGS and PINGs;
 * - HEADERS with CONTINUATION both ways (HPACK, hpack.ts), DATA, RST_STREAM, GOAWAY;
 * - flow control both ways: DATA never exceeds the server's windows or frame size (a context sync
 *   writes megabytes), and the connection's receive window is opened wide at once and kept so,
 *   while a stream's reopens only as its reader takes the data (stream.ts);
 * - any number of concurrent streams, up to the server's SETTINGS_MAX_CONCURRENT_STREAMS (more
 *   wait for a slot; one until the server's SETTINGS arrive).
 *
 * A protocol violation by the server fails the connection (GOAWAY with the error code); the
 * connection's failure (a refused connect, a reset socket) is `error`, which H2Call names in the
 * UNAVAILABLE status of the streams that were open. Written chunks are sent on the next tick,
 * frames corked into one write, and the socket is not filled beyond SOCKET_BUFFER before it drains.
 *
 * Here: streams, windows, the socket; the wire format is in frames.ts, header blocks in
 * header-block.ts, what the server's SETTINGS allow in peer-settings.ts.
 */
import type { Socket } from 'node:net';
import {
  ConnectionError, DEFAULT_WINDOW, FLAG, frame, FRAME, frameHeader, FrameReader, goaway, H2_ERROR, MAX_WINDOW, PREFACE, rstStream, SETTING, settings,
  unpad, windowUpdate, type Frame,
} from './frames.js';
import { HeaderBlockReader, writeHeaderBlock } from './header-block.js';
import type { HeaderField } from './hpack.js';
import { PeerSettings } from './peer-settings.js';
import { NetH2Stream, type StreamOwner } from './stream.js';

/** The receive window of each stream (SETTINGS_INITIAL_WINDOW_SIZE), reopened at half. */
export const STREAM_WINDOW = 4 * 1024 * 1024;
/** Octets buffered in the socket beyond which sending waits for it to drain. */
const SOCKET_BUFFER = 1024 * 1024;
/** How long a connection that sent its GOAWAY waits for the server to close before closing itself. */
const SHUTDOWN_GRACE_MS = 500;

export class H2Connection implements StreamOwner {
  readonly #socket: Socket;
  readonly #reader = new FrameReader();
  readonly #streams = new Map<number, NetH2Stream>();
  #waiting: NetH2Stream[] = [];
  readonly #sending = new Set<NetH2Stream>();
  readonly #headerBlocks = new HeaderBlockReader((streamId, fields, endStream) => this.#streams.get(streamId)?.onHeaders(fields, endStream));
  /** The server's initial stream window moved: so does every open stream's send window (§6.9.2). */
  readonly #peer = new PeerSettings((delta) => {
    for (const s of this.#streams.values()) {
      s.sendWindow += delta;
      if (s.sendWindow > MAX_WINDOW) throw new ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, 'a stream window beyond 2^31-1');
      if (s.wantsToSend) this.#sending.add(s);
    }
  });
  #nextId = 1;
  #sendWindow = DEFAULT_WINDOW;
  #recvWindow = MAX_WINDOW;
  #recvUnacked = 0;
  #flushQueued = false;
  #awaitingDrain = false;
  #goaway = false;
  #closing = false;
  #ended = false;
  /** The socket is closed: every stream still open was dropped. */
  destroyed = false;
  /** Why the connection failed (socket error, GOAWAY with an error, a protocol violation). */
  error: Error | undefined;

  readonly connected: Promise<void>;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.connected = socket.connecting
      ? new Promise<void>((resolve) => {
        socket.once('connect', resolve);
        socket.once('close', () => resolve());
      })
      : Promise.resolve();
    socket.on('data', (chunk: Buffer) => this.#onBytes(chunk));
    socket.on('error', (e: Error) => {
      this.error ??= e;
    });
    socket.on('close', () => this.#lost());
    socket.on('drain', () => {
      this.#awaitingDrain = false;
      this.#flush();
    });
    const mine = settings([[SETTING.ENABLE_PUSH, 0], [SETTING.INITIAL_WINDOW_SIZE, STREAM_WINDOW]]);
    socket.write(Buffer.concat([PREFACE, mine, windowUpdate(0, MAX_WINDOW - DEFAULT_WINDOW)]));
  }

  /** True when the connection takes no new streams: going away, closing or gone. */
  get closed(): boolean {
    return this.#goaway || this.#closing || this.destroyed;
  }

  /** A new stream with these request headers (pseudo-headers first), opened on the next tick. */
  request(headers: readonly HeaderField[]): NetH2Stream {
    const s = new NetH2Stream(this, headers);
    if (this.closed) {
      const code = this.destroyed ? H2_ERROR.CANCEL : H2_ERROR.REFUSED_STREAM;
      process.nextTick(() => s.onReset(code));
      return s;
    }
    this.#waiting.push(s);
    this.#scheduleFlush();
    return s;
  }

  /** Keeps the process alive (while calls are active) or not. */
  ref(): void {
    this.#socket.ref();
  }

  unref(): void {
    this.#socket.unref();
  }

  /** No new streams; the connection ends once the open ones have. */
  close(): void {
    this.#closing = true;
    if (this.#idle()) this.#shutdown();
  }

  // StreamOwner.

  schedule(s: NetH2Stream): void {
    if (s.id !== 0) this.#sending.add(s);
    this.#scheduleFlush();
  }

  reset(s: NetH2Stream, code: number): void {
    if (s.id !== 0 && this.#streams.get(s.id) === s && !this.destroyed) {
      this.#socket.write(rstStream(s.id, code));
    }
  }

  consumed(s: NetH2Stream, n: number): void {
    s.recvUnacked += n;
    if (s.recvUnacked >= STREAM_WINDOW / 2 && !this.destroyed && this.#streams.get(s.id) === s) {
      this.#socket.write(windowUpdate(s.id, s.recvUnacked));
      s.recvWindow += s.recvUnacked;
      s.recvUnacked = 0;
    }
  }

  forget(s: NetH2Stream): void {
    if (this.#streams.get(s.id) === s) this.#streams.delete(s.id);
    this.#sending.delete(s);
    if (s.id === 0) this.#waiting = this.#waiting.filter((w) => w !== s);
    if (this.#waiting.length > 0) this.#scheduleFlush();
    if ((this.#goaway || this.#closing) && this.#idle()) this.#shutdown();
  }

  // Sending.

  #idle(): boolean {
    return this.#streams.size === 0 && this.#waiting.length === 0;
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    process.nextTick(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  /** Opens the streams that may be opened, then sends DATA round-robin while the windows allow. */
  #flush(): void {
    if (this.destroyed || this.#awaitingDrain) return;
    const written: Array<() => void> = [];
    this.#socket.cork();
    try {
      // Also when closing: streams asked for before close() still run.
      while (this.#waiting.length > 0 && this.#streams.size < this.#peer.maxStreams && !this.#goaway) {
        this.#open(this.#waiting.shift() as NetH2Stream);
      }
      let progress = true;
      while (progress && !this.#awaitingDrain) {
        progress = false;
        for (const s of [...this.#sending]) {
          if (!s.wantsToSend) {
            this.#sending.delete(s);
            continue;
          }
          const room = Math.min(this.#peer.maxFrame, this.#sendWindow, s.sendWindow);
          if (s.hasQueuedData && room <= 0) continue; // until a WINDOW_UPDATE
          const { data, end, done } = s.take(s.hasQueuedData ? room : 0);
          this.#sendWindow -= data.byteLength;
          s.sendWindow -= data.byteLength;
          this.#socket.write(frameHeader(FRAME.DATA, end ? FLAG.END_STREAM : 0, s.id, data.byteLength));
          if (data.byteLength > 0) this.#socket.write(data);
          written.push(...done);
          progress = true;
          if (this.#socket.writableLength >= SOCKET_BUFFER) {
            this.#awaitingDrain = true;
            break;
          }
        }
      }
    } finally {
      this.#socket.uncork();
    }
    for (const cb of written) cb();
  }

  #open(s: NetH2Stream): void {
    if (s.closed) return;
    s.id = this.#nextId;
    this.#nextId += 2;
    s.sendWindow = this.#peer.initialWindow;
    s.recvWindow = STREAM_WINDOW;
    this.#streams.set(s.id, s);
    writeHeaderBlock(this.#socket, s.id, s.requestHeaders, this.#peer.maxFrame);
    if (s.wantsToSend) this.#sending.add(s);
  }

  #shutdown(): void {
    if (this.#ended || this.destroyed) return;
    this.#ended = true;
    this.#socket.end(goaway(H2_ERROR.NO_ERROR, ''));
    // Nothing more is coming on an idle connection: a server that does not close its end (node's
    // http2 server after its own GOAWAY does not) must not hold the socket open.
    setTimeout(() => this.#socket.destroy(), SHUTDOWN_GRACE_MS).unref();
  }

  // Receiving.

  #onBytes(chunk: Buffer): void {
    this.#socket.cork();
    try {
      for (const f of this.#reader.push(chunk)) {
        if (this.destroyed) break;
        this.#onFrame(f);
      }
    } catch (e) {
      this.#fail(e instanceof ConnectionError ? e : new ConnectionError(H2_ERROR.INTERNAL_ERROR, e instanceof Error ? e.message : String(e)));
    } finally {
      this.#socket.uncork();
    }
  }

  #onFrame(f: Frame): void {
    if (this.#headerBlocks.incomplete && f.type !== FRAME.CONTINUATION) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'a header block interrupted before its end');
    switch (f.type) {
      case FRAME.DATA: return this.#onData(f);
      case FRAME.HEADERS: return this.#headerBlocks.headers(f);
      case FRAME.CONTINUATION: return this.#headerBlocks.continuation(f);
      case FRAME.RST_STREAM:
        if (f.streamId === 0 || f.payload.byteLength !== 4) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'a malformed RST_STREAM');
        this.#streams.get(f.streamId)?.onReset(f.payload.readUInt32BE(0));
        return;
      case FRAME.SETTINGS: return this.#onSettings(f);
      case FRAME.PUSH_PROMISE: throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'PUSH_PROMISE, though push is disabled');
      case FRAME.PING:
        if (f.streamId !== 0 || f.payload.byteLength !== 8) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'a malformed PING');
        if ((f.flags & FLAG.ACK) === 0) this.#socket.write(frame(FRAME.PING, FLAG.ACK, 0, f.payload));
        return;
      case FRAME.GOAWAY: return this.#onGoaway(f);
      case FRAME.WINDOW_UPDATE: return this.#onWindowUpdate(f);
      default: return; // PRIORITY, and frame types this client does not know, are ignored (§4.1, §5.5)
    }
  }

  #onData(f: Frame): void {
    if (f.streamId === 0) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'DATA on stream 0');
    const length = f.payload.byteLength;
    this.#recvWindow -= length;
    if (this.#recvWindow < 0) throw new ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, 'DATA beyond the connection window');
    // The connection window reopens on receipt: each stream's own window bounds what waits unread.
    this.#recvUnacked += length;
    if (this.#recvUnacked >= MAX_WINDOW / 2) {
      this.#socket.write(windowUpdate(0, this.#recvUnacked));
      this.#recvWindow += this.#recvUnacked;
      this.#recvUnacked = 0;
    }
    const s = this.#streams.get(f.streamId);
    if (!s) return; // a stream this side closed; its data still counted against the connection
    s.recvWindow -= length;
    if (s.recvWindow < 0) {
      s.close(H2_ERROR.FLOW_CONTROL_ERROR);
      return;
    }
    const data = unpad(f);
    if (length > data.byteLength) this.consumed(s, length - data.byteLength);
    s.onData(data);
    if (f.flags & FLAG.END_STREAM) s.onRemoteEnd();
  }

  #onSettings(f: Frame): void {
    if (!this.#peer.read(f)) return;
    this.#socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
    this.#scheduleFlush();
  }

  #onWindowUpdate(f: Frame): void {
    if (f.payload.byteLength !== 4) throw new ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'a malformed WINDOW_UPDATE');
    const increment = f.payload.readUInt32BE(0) & 0x7fffffff;
    if (f.streamId === 0) {
      if (increment === 0) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'a WINDOW_UPDATE of 0');
      this.#sendWindow += increment;
      if (this.#sendWindow > MAX_WINDOW) throw new ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, 'the connection window beyond 2^31-1');
    } else {
      const s = this.#streams.get(f.streamId);
      if (!s) return;
      s.sendWindow += increment;
      if (increment === 0) s.close(H2_ERROR.PROTOCOL_ERROR);
      else if (s.sendWindow > MAX_WINDOW) s.close(H2_ERROR.FLOW_CONTROL_ERROR);
      else if (s.wantsToSend) this.#sending.add(s);
    }
    this.#scheduleFlush();
  }

  #onGoaway(f: Frame): void {
    if (f.streamId !== 0 || f.payload.byteLength < 8) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'a malformed GOAWAY');
    const last = f.payload.readUInt32BE(0) & 0x7fffffff;
    const code = f.payload.readUInt32BE(4);
    this.#goaway = true;
    if (code !== H2_ERROR.NO_ERROR) {
      const debug = f.payload.subarray(8).toString('latin1');
      this.error ??= new Error(`the server ended the connection (GOAWAY, error code ${code}${debug ? `: ${debug}` : ''})`);
    }
    // Streams the server never processed are refused, and may be retried elsewhere.
    const refused = [...this.#waiting, ...[...this.#streams.values()].filter((s) => s.id > last)];
    this.#waiting = [];
    for (const s of refused) s.onReset(H2_ERROR.REFUSED_STREAM);
    if (this.#idle()) this.#shutdown();
  }

  /** A violation by the server: GOAWAY with its code, and the socket closed. */
  #fail(e: ConnectionError): void {
    this.error ??= e;
    this.#goaway = true;
    if (this.destroyed) return;
    this.#socket.end(goaway(e.code, e.message), () => this.#socket.destroy());
    this.#lost();
  }

  /** The socket closed: the streams still open are dropped. */
  #lost(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const open = [...this.#waiting, ...this.#streams.values()];
    this.#waiting = [];
    for (const s of open) s.onReset(H2_ERROR.CANCEL);
  }
}
