/**
 * HTTP/2 framing (RFC 9113 §4, §6) for the client's own connection (connection.ts): the frame
 * types, flags, error codes and settings it uses, the 9-octet frame header, the small control
 * frames it sends, a padded payload's content, and a reader that cuts the socket's byte stream into
 * whole frames however its chunks fall.
 */

export const FRAME = {
  DATA: 0x0, HEADERS: 0x1, PRIORITY: 0x2, RST_STREAM: 0x3, SETTINGS: 0x4, PUSH_PROMISE: 0x5, PING: 0x6,
  GOAWAY: 0x7, WINDOW_UPDATE: 0x8, CONTINUATION: 0x9,
} as const;

export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** Error codes (§7) this client sends or names. */
export const H2_ERROR = {
  NO_ERROR: 0x0, PROTOCOL_ERROR: 0x1, INTERNAL_ERROR: 0x2, FLOW_CONTROL_ERROR: 0x3, STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6, REFUSED_STREAM: 0x7, CANCEL: 0x8, COMPRESSION_ERROR: 0x9,
} as const;

export const SETTING = {
  HEADER_TABLE_SIZE: 0x1, ENABLE_PUSH: 0x2, MAX_CONCURRENT_STREAMS: 0x3, INITIAL_WINDOW_SIZE: 0x4, MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** The client connection preface (§3.4), sent before its first SETTINGS. */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** The default (and minimum) SETTINGS_MAX_FRAME_SIZE, and the largest window (§6.9.1). */
export const DEFAULT_MAX_FRAME = 16_384;
export const MAX_WINDOW = 0x7fffffff;
/** Every window starts at this size (§6.9.2). */
export const DEFAULT_WINDOW = 65_535;

const HEADER = 9;

/** One frame as read. */
export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** A violation of the protocol by the peer: the connection fails with `code` (§5.4.1). */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** The 9-octet header of a frame with a payload of `length` octets. */
export function frameHeader(type: number, flags: number, streamId: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId & 0x7fffffff, 5);
  return h;
}

/** A whole frame in one buffer (for the small control frames). */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([frameHeader(type, flags, streamId, payload.byteLength), payload]);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}

/** A SETTINGS frame (not an acknowledgement) of these settings, in order (§6.5.1). */
export function settings(values: ReadonlyArray<readonly [id: number, value: number]>): Buffer {
  const payload = Buffer.allocUnsafe(6 * values.length);
  for (const [i, [id, value]] of values.entries()) {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  }
  return frame(FRAME.SETTINGS, 0, 0, payload);
}

export function windowUpdate(streamId: number, increment: number): Buffer {
  return frame(FRAME.WINDOW_UPDATE, 0, streamId, u32(increment));
}

export function rstStream(streamId: number, code: number): Buffer {
  return frame(FRAME.RST_STREAM, 0, streamId, u32(code));
}

export function goaway(code: number, debug: string): Buffer {
  return frame(FRAME.GOAWAY, 0, 0, Buffer.concat([u32(0), u32(code), Buffer.from(debug, 'latin1')]));
}

/** A DATA or HEADERS payload without its padding (§6.1, §6.2). */
export function unpad(f: Frame): Buffer {
  if ((f.flags & FLAG.PADDED) === 0) return f.payload;
  const pad = f.payload[0];
  if (pad === undefined || pad >= f.payload.byteLength) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'padding longer than the frame');
  return f.payload.subarray(1, f.payload.byteLength - pad);
}

/** Cuts a byte stream into frames; a frame longer than `maxFrameSize` fails the connection. */
export class FrameReader {
  readonly #maxFrameSize: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(maxFrameSize = DEFAULT_MAX_FRAME) {
    this.#maxFrameSize = maxFrameSize;
  }

  /** The frames `chunk` completes, in order. */
  push(chunk: Buffer): Frame[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    const out: Frame[] = [];
    while (this.#buffered >= HEADER) {
      const head = this.#contiguous(HEADER);
      const length = head.readUIntBE(0, 3);
      if (length > this.#maxFrameSize) throw new ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, `a frame of ${length} octets, above the ${this.#maxFrameSize} allowed`);
      if (this.#buffered < HEADER + length) break;
      const whole = this.#contiguous(HEADER + length);
      out.push({ type: whole[3] as number, flags: whole[4] as number, streamId: whole.readUInt32BE(5) & 0x7fffffff, payload: whole.subarray(HEADER, HEADER + length) });
      this.#consume(HEADER + length);
    }
    return out;
  }

  /** The first chunk, joined with the next ones until it holds `n` octets. */
  #contiguous(n: number): Buffer {
    const first = this.#chunks[0] as Buffer;
    if (first.byteLength >= n) return first;
    let i = 0;
    let total = 0;
    while (total < n) total += (this.#chunks[i++] as Buffer).byteLength;
    const joined = Buffer.concat(this.#chunks.slice(0, i), total);
    this.#chunks.splice(0, i, joined);
    return joined;
  }

  #consume(n: number): void {
    const first = this.#chunks[0] as Buffer;
    if (first.byteLength > n) this.#chunks[0] = first.subarray(n);
    else this.#chunks.shift();
    this.#buffered -= n;
  }
}
