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
 */
import type { Socket } from 'node:net';
import {
  ConnectionError, DEFAULT_MAX_FRAME, DEFAULT_WINDOW, FLAG, frame, FRAME, frameHeader, FrameReader, H2_ERROR, MAX_WINDOW, PREFACE, SETTING,
  type Frame,
} from './frames.js';
import { encodeHeaders, HpackDecoder, HpackError, type HeaderField } from './hpack.js';
import { NetH2Stream, type StreamOwner } from './stream.js';

/** The receive window of each stream (SETTINGS_INITIAL_WINDOW_SIZE), reopened at half. */
export const STREAM_WINDOW = 4 * 1024 * 1024;
/** Octets buffered in the socket beyond which sending waits for it to drain. */
const SOCKET_BUFFER = 1024 * 1024;
/** How long a connection that sent its GOAWAY waits for the server to close before closing itself. */
const SHUTDOWN_GRACE_MS = 500;

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}

function windowUpdate(streamId: number, increment: number): Buffer {
  return frame(FRAME.WINDOW_UPDATE, 0, streamId, u32(increment));
}

function goaway(code: number, debug: string): Buffer {
  return frame(FRAME.GOAWAY, 0, 0, Buffer.concat([u32(0), u32(code), Buffer.from(debug, 'latin1')]));
}

interface HeaderBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly parts: Buffer[];
}

export class H2Connection implements StreamOwner {
  readonly #socket: Socket;
  readonly #reader = new FrameReader();
  readonly #decoder = new HpackDecoder();
  readonly #streams = new Map<number, NetH2Stream>();
  #waiting: NetH2Stream[] = [];
  readonly #sending = new Set<NetH2Stream>();
  #nextId = 1;
  #sendWindow = DEFAULT_WINDOW;
  #recvWindow = MAX_WINDOW;
  #recvUnacked = 0;
  #peerInitialWindow = DEFAULT_WINDOW;
  #peerMaxFrame = DEFAULT_MAX_FRAME;
  /**
   * Until the server's first SETTINGS, one stream at a time: a server with a lower limit than the
   * calls started at once would refuse the rest (REFUSED_STREAM), and its limit is not known yet.
   */
  #peerMaxStreams = 1;
  #settingsSeen = false;
  /** A header block still waiting for its CONTINUATION frames. */
  #block: HeaderBlock | undefined;
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
    const settings = Buffer.allocUnsafe(12);
    settings.writeUInt16BE(SETTING.ENABLE_PUSH, 0);
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(SETTING.INITIAL_WINDOW_SIZE, 6);
    settings.writeUInt32BE(STREAM_WINDOW, 8);
    socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0, settings), windowUpdate(0, MAX_WINDOW - DEFAULT_WINDOW)]));
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
      this.#socket.write(frame(FRAME.RST_STREAM, 0, s.id, u32(code)));
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
      while (this.#waiting.length > 0 && this.#streams.size < this.#peerMaxStreams && !this.#goaway) {
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
          const room = Math.min(this.#peerMaxFrame, this.#sendWindow, s.sendWindow);
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
    s.sendWindow = this.#peerInitialWindow;
    s.recvWindow = STREAM_WINDOW;
    this.#streams.set(s.id, s);
    const block = encodeHeaders(s.requestHeaders);
    const max = this.#peerMaxFrame;
    for (let at = 0; at === 0 || at < block.byteLength; at += max) {
      const part = block.subarray(at, at + max);
      const last = at + max >= block.byteLength;
      this.#socket.write(frameHeader(at === 0 ? FRAME.HEADERS : FRAME.CONTINUATION, last ? FLAG.END_HEADERS : 0, s.id, part.byteLength));
      this.#socket.write(part);
    }
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
    if (this.#block && f.type !== FRAME.CONTINUATION) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'a header block interrupted before its end');
    switch (f.type) {
      case FRAME.DATA: return this.#onData(f);
      case FRAME.HEADERS: return this.#onHeaders(f);
      case FRAME.CONTINUATION: return this.#onContinuation(f);
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

  #onHeaders(f: Frame): void {
    if (f.streamId === 0) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'HEADERS on stream 0');
    let fragment = unpad(f);
    if (f.flags & FLAG.PRIORITY) {
      if (fragment.byteLength < 5) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'a HEADERS frame too short for its priority');
      fragment = fragment.subarray(5);
    }
    this.#block = { streamId: f.streamId, endStream: (f.flags & FLAG.END_STREAM) !== 0, parts: [fragment] };
    if (f.flags & FLAG.END_HEADERS) this.#endBlock();
  }

  #onContinuation(f: Frame): void {
    if (!this.#block || this.#block.streamId !== f.streamId) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'CONTINUATION without its HEADERS');
    this.#block.parts.push(f.payload);
    if (f.flags & FLAG.END_HEADERS) this.#endBlock();
  }

  /** Decodes a complete header block (always: the HPACK table must follow the server's even for a stream closed here). */
  #endBlock(): void {
    const { streamId, endStream, parts } = this.#block as HeaderBlock;
    this.#block = undefined;
    let fields: HeaderField[];
    try {
      fields = this.#decoder.decode(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    } catch (e) {
      if (e instanceof HpackError) throw new ConnectionError(H2_ERROR.COMPRESSION_ERROR, e.message);
      throw e;
    }
    this.#streams.get(streamId)?.onHeaders(fields, endStream);
  }

  #onSettings(f: Frame): void {
    if (f.streamId !== 0) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (f.flags & FLAG.ACK) {
      if (f.payload.byteLength !== 0) throw new ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'a SETTINGS acknowledgement with a payload');
      return;
    }
    if (f.payload.byteLength % 6 !== 0) throw new ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'a SETTINGS frame of a partial setting');
    if (!this.#settingsSeen) {
      this.#settingsSeen = true;
      this.#peerMaxStreams = Number.POSITIVE_INFINITY; // unless the frame names a limit
    }
    for (let at = 0; at < f.payload.byteLength; at += 6) {
      const id = f.payload.readUInt16BE(at);
      const value = f.payload.readUInt32BE(at + 2);
      if (id === SETTING.MAX_CONCURRENT_STREAMS) this.#peerMaxStreams = value;
      else if (id === SETTING.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) throw new ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value}`);
        const delta = value - this.#peerInitialWindow;
        this.#peerInitialWindow = value;
        for (const s of this.#streams.values()) {
          s.sendWindow += delta;
          if (s.sendWindow > MAX_WINDOW) throw new ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, 'a stream window beyond 2^31-1');
          if (s.wantsToSend) this.#sending.add(s);
        }
      } else if (id === SETTING.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME || value > 0xffffff) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`);
        this.#peerMaxFrame = value;
      }
      // HEADER_TABLE_SIZE: the encoder never indexes; ENABLE_PUSH, MAX_HEADER_LIST_SIZE, others: nothing to do.
    }
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

/** A DATA or HEADERS payload without its padding (§6.1, §6.2). */
function unpad(f: Frame): Buffer {
  if ((f.flags & FLAG.PADDED) === 0) return f.payload;
  const pad = f.payload[0];
  if (pad === undefined || pad >= f.payload.byteLength) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'padding longer than the frame');
  return f.payload.subarray(1, f.payload.byteLength - pad);
}
