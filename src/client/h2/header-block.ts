/**
 * Header blocks (RFC 9113 §4.3) for the client's own connection (connection.ts), both ways: a
 * stream's request headers HPACK-encoded (hpack.ts) and cut into a HEADERS frame and as many
 * CONTINUATION frames as the server's frame size needs; and a received HEADERS frame joined with
 * its CONTINUATION frames, then decoded. Every received block is decoded, also one for a stream
 * closed here: the HPACK table must follow the server's.
 */
import type { Socket } from 'node:net';
import { ConnectionError, FLAG, FRAME, frameHeader, H2_ERROR, unpad, type Frame } from './frames.js';
import { encodeHeaders, HpackDecoder, HpackError, type HeaderField } from './hpack.js';

/** Writes `headers` as the header block that opens stream `streamId`, in frames of at most `maxFrame` octets. */
export function writeHeaderBlock(socket: Socket, streamId: number, headers: readonly HeaderField[], maxFrame: number): void {
  const block = encodeHeaders(headers);
  for (let at = 0; at === 0 || at < block.byteLength; at += maxFrame) {
    const part = block.subarray(at, at + maxFrame);
    const last = at + maxFrame >= block.byteLength;
    socket.write(frameHeader(at === 0 ? FRAME.HEADERS : FRAME.CONTINUATION, last ? FLAG.END_HEADERS : 0, streamId, part.byteLength));
    socket.write(part);
  }
}

interface HeaderBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly parts: Buffer[];
}

/** A stream's received header fields, and whether its HEADERS frame also ended the stream. */
export type OnHeaderBlock = (streamId: number, fields: HeaderField[], endStream: boolean) => void;

/** Joins the HEADERS and CONTINUATION frames the server sends into header blocks, decoded in order. */
export class HeaderBlockReader {
  readonly #decoder = new HpackDecoder();
  readonly #onBlock: OnHeaderBlock;
  /** A header block still waiting for its CONTINUATION frames. */
  #block: HeaderBlock | undefined;

  constructor(onBlock: OnHeaderBlock) {
    this.#onBlock = onBlock;
  }

  /** True while a block waits for its CONTINUATION frames: no other frame may come between (§6.10). */
  get incomplete(): boolean {
    return this.#block !== undefined;
  }

  headers(f: Frame): void {
    if (f.streamId === 0) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'HEADERS on stream 0');
    let fragment = unpad(f);
    if (f.flags & FLAG.PRIORITY) {
      if (fragment.byteLength < 5) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'a HEADERS frame too short for its priority');
      fragment = fragment.subarray(5);
    }
    this.#block = { streamId: f.streamId, endStream: (f.flags & FLAG.END_STREAM) !== 0, parts: [fragment] };
    if (f.flags & FLAG.END_HEADERS) this.#end();
  }

  continuation(f: Frame): void {
    if (!this.#block || this.#block.streamId !== f.streamId) throw new ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'CONTINUATION without its HEADERS');
    this.#block.parts.push(f.payload);
    if (f.flags & FLAG.END_HEADERS) this.#end();
  }

  /** Decodes a complete header block. */
  #end(): void {
    const { streamId, endStream, parts } = this.#block as HeaderBlock;
    this.#block = undefined;
    let fields: HeaderField[];
    try {
      fields = this.#decoder.decode(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    } catch (e) {
      if (e instanceof HpackError) throw new ConnectionError(H2_ERROR.COMPRESSION_ERROR, e.message);
      throw e;
    }
    this.#onBlock(streamId, fields, endStream);
  }
}
