/**
 * gRPC's transparent retry: a call whose stream the server refused before answering
 * (REFUSED_STREAM: an RST_STREAM, or a GOAWAY that left the stream unprocessed, as a server does
 * when it closes an idle or over-busy connection) starts again on a new stream, on a new
 * connection when the old one is going away. The server did nothing with a refused stream, so
 * what the call wrote is sent again: the stream keeps its writes until the answer's headers come,
 * up to RETRY_BUFFER bytes (a call that writes more before any answer, such as a large build
 * context, is not retried and fails UNAVAILABLE as before). The call (call.ts) sees one stream.
 */
import { EventEmitter } from 'node:events';
import type { CallStream } from './call.js';
import type { ResponseHeaders } from './status.js';

const REFUSED_STREAM = 0x7;
/** Attempts in all, the first included. */
const MAX_ATTEMPTS = 5;
const RETRY_BUFFER = 1 << 20;

/** A stream the channel can open (node-session.ts's SessionStream). */
export type OpenedStream = CallStream & { once(event: 'close', listener: () => void): unknown };

export class RetryingStream extends EventEmitter implements CallStream {
  readonly #open: () => OpenedStream;
  #inner: OpenedStream;
  #attempts = 1;
  /** What was written, kept for a retry until an answer arrives (undefined: no retry any more). */
  #written: Buffer[] | undefined = [];
  #bytes = 0;
  #ended = false;
  #paused = false;
  #heldError: Error | undefined;

  /** `open`: a new stream on the channel's live connection (it may throw once the channel is closed). */
  constructor(open: () => OpenedStream) {
    super();
    this.#open = open;
    this.#inner = open();
    this.#bind(this.#inner);
  }

  get session(): CallStream['session'] {
    return this.#inner.session;
  }

  get closed(): boolean {
    return this.#inner.closed;
  }

  get rstCode(): number | undefined {
    return this.#inner.rstCode;
  }

  get writableEnded(): boolean {
    return this.#ended;
  }

  pause(): this {
    this.#paused = true;
    this.#inner.pause();
    return this;
  }

  resume(): this {
    this.#paused = false;
    this.#inner.resume();
    return this;
  }

  isPaused(): boolean {
    return this.#paused;
  }

  write(chunk: Buffer, cb: (error?: Error | null) => void): boolean {
    if (this.#written) {
      this.#bytes += chunk.byteLength;
      if (this.#bytes <= RETRY_BUFFER) this.#written.push(chunk);
      else this.#written = undefined;
    }
    return this.#inner.write(chunk, cb);
  }

  end(): this {
    this.#ended = true;
    this.#inner.end();
    return this;
  }

  close(code?: number): void {
    this.#written = undefined;
    this.#inner.close(code);
  }

  #bind(inner: OpenedStream): void {
    const current = (): boolean => inner === this.#inner;
    inner.on('response', (h: ResponseHeaders) => {
      if (!current()) return;
      this.#written = undefined; // answered: the server has the call
      this.emit('response', h);
    });
    inner.on('trailers', (h: ResponseHeaders) => {
      if (current()) this.emit('trailers', h);
    });
    inner.on('data', (c: Buffer) => {
      if (current()) this.emit('data', c);
    });
    // Held until 'close' decides between a retry and the end of the call.
    inner.on('error', (e: Error) => {
      if (current()) this.#heldError ??= e;
    });
    inner.on('end', () => {
      if (current()) this.emit('end');
    });
    inner.on('close', () => {
      if (!current()) return;
      if (inner.rstCode === REFUSED_STREAM && this.#written && this.#attempts < MAX_ATTEMPTS && this.#retry()) return;
      if (this.#heldError) this.emit('error', this.#heldError);
      this.emit('close');
    });
  }

  /** A new stream with everything written so far; false when none can be opened. */
  #retry(): boolean {
    let next: OpenedStream;
    try {
      next = this.#open();
    } catch {
      return false;
    }
    this.#attempts++;
    this.#heldError = undefined;
    this.#inner = next;
    this.#bind(next);
    if (this.#paused) next.pause();
    // The call's write callbacks ran when the refused stream dropped its queue.
    for (const chunk of this.#written ?? []) next.write(chunk, () => undefined);
    if (this.#ended) next.end();
    return true;
  }
}
