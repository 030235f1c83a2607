/**
 * gRPC's length-prefixed message framing over HTTP/2 DATA frames (the "Length-Prefixed-Message" of
 * https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): a 1-byte compressed flag, a
 * 4-byte big-endian length, then the message. DATA frames do not align with messages — one frame
 * may carry several messages, one message may span many frames — so the decoder buffers until a
 * whole message is there. This client never compresses; a compressed message from the peer is a
 * protocol error (we announce no grpc-accept-encoding).
 */

const PREFIX = 5;

/** The frame for one encoded message. */
export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(PREFIX + message.byteLength);
  out[0] = 0;
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, PREFIX);
  return out;
}

/** Thrown by MessageDecoder for a frame it cannot accept (becomes an INTERNAL status). */
export class FramingError extends Error {
  override readonly name = 'FramingError';
}

/** Turns a stream of DATA chunks into whole messages. */
export class MessageDecoder {
  readonly #maxMessageBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  /** @param maxMessageBytes a larger announced message is refused. Default: 2 GiB - 1 (any). */
  constructor(maxMessageBytes = 0x7fffffff) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** True while part of a message is buffered (a stream ending then was cut mid-message). */
  get pending(): boolean {
    return this.#buffered > 0;
  }

  /** The messages completed by `chunk`, in order. */
  push(chunk: Buffer): Buffer[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    const out: Buffer[] = [];
    for (;;) {
      if (this.#buffered < PREFIX) return out;
      const head = this.#peek(PREFIX);
      if (head[0] !== 0) throw new FramingError(head[0] === 1 ? 'received a compressed message, but no compression was negotiated' : `invalid message flag ${head[0]}`);
      const length = head.readUInt32BE(1);
      if (length > this.#maxMessageBytes) throw new FramingError(`received a message of ${length} bytes, larger than ${this.#maxMessageBytes}`);
      if (this.#buffered < PREFIX + length) return out;
      const whole = this.#take(PREFIX + length);
      out.push(whole.subarray(PREFIX));
    }
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0] as Buffer;
    if (first.byteLength >= n) return first;
    const joined = Buffer.concat(this.#chunks);
    this.#chunks = [joined];
    return joined;
  }

  #take(n: number): Buffer {
    // #peek leaves the (joined) head chunk first; what follows it stays queued.
    const joined = this.#peek(n);
    if (joined.byteLength > n) this.#chunks[0] = joined.subarray(n);
    else this.#chunks.shift();
    this.#buffered -= n;
    return joined.subarray(0, n);
  }
}
