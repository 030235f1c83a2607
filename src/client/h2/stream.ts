/**
 * One HTTP/2 stream of the client's own connection (connection.ts), with the part of
 * node:http2's ClientHttp2Stream that H2Call uses (CallStream): `response`, `trailers`, `data`,
 * `end` and `close` events; `write(chunk, cb)`, `end()`, `close(code)`; `pause()`/`resume()`;
 * `closed`, `rstCode`, `writableEnded`, `session.destroyed`. It holds what its two halves queue:
 * chunks written but not yet sent (the connection sends them as the flow-control windows allow,
 * and calls each chunk's callback once it is on the socket, which is the writer's backpressure),
 * and DATA received while its reader is paused (the stream's receive window is reopened only for
 * data handed to the reader, so a paused reader stops the server).
 */
import { EventEmitter } from 'node:events';
import { H2_ERROR } from './frames.js';
import type { HeaderField } from './hpack.js';

/** What a stream needs of its connection. */
export interface StreamOwner {
  /** True once the connection is gone (the stream was dropped with it when still open). */
  readonly destroyed: boolean;
  /** `s` has something to send (HEADERS, data or its end). */
  schedule(s: NetH2Stream): void;
  /** This side resets `s` (RST_STREAM when it was opened) or gives up its half. */
  reset(s: NetH2Stream, code: number): void;
  /** `n` received octets of `s` reached its reader: its receive window may reopen. */
  consumed(s: NetH2Stream, n: number): void;
  /** `s` is closed: forget it. */
  forget(s: NetH2Stream): void;
}

interface Outgoing {
  data: Buffer;
  readonly done: () => void;
}

export class NetH2Stream extends EventEmitter {
  /** Assigned when the connection sends the HEADERS; 0 until then. */
  id = 0;
  /** How many octets the server lets this stream send now (may go negative, §6.9.2). */
  sendWindow = 0;
  /** Octets the server may still send before the next WINDOW_UPDATE, and those consumed since the last. */
  recvWindow = 0;
  recvUnacked = 0;
  readonly session: StreamOwner;
  readonly requestHeaders: readonly HeaderField[];
  closed = false;
  rstCode: number | undefined;
  #out: Outgoing[] = [];
  #ending = false;
  #endSent = false;
  #remoteEnded = false;
  #endEmitted = false;
  #responded = false;
  #paused = false;
  #inbox: Buffer[] = [];
  #draining = false;

  constructor(session: StreamOwner, headers: readonly HeaderField[]) {
    super();
    this.session = session;
    this.requestHeaders = headers;
  }

  get writableEnded(): boolean {
    return this.#ending;
  }

  /** Queues `chunk`; `cb` runs once it is on the socket (or dropped with the stream). */
  write(chunk: Buffer, cb: (error?: Error | null) => void): boolean {
    if (this.closed || this.#ending) {
      cb();
      return false;
    }
    this.#out.push({ data: chunk, done: () => cb() });
    this.session.schedule(this);
    return true;
  }

  /** Ends this side: END_STREAM goes out after the queued chunks. */
  end(): this {
    if (!this.#ending && !this.closed) {
      this.#ending = true;
      this.session.schedule(this);
    }
    return this;
  }

  /** Resets the stream (RST_STREAM `code`, CANCEL by default) and closes it. */
  close(code: number = H2_ERROR.CANCEL): void {
    if (this.closed) return;
    this.rstCode = code;
    this.session.reset(this, code);
    this.#close();
  }

  pause(): this {
    this.#paused = true;
    return this;
  }

  resume(): this {
    if (this.#paused) {
      this.#paused = false;
      if (!this.#draining) {
        this.#draining = true;
        process.nextTick(() => {
          this.#draining = false;
          this.#deliver();
        });
      }
    }
    return this;
  }

  isPaused(): boolean {
    return this.#paused;
  }

  // The connection's side.

  /** True when queued data or the end waits to be sent. */
  get wantsToSend(): boolean {
    return !this.#endSent && !this.closed && (this.#out.length > 0 || this.#ending);
  }

  /** True when written chunks wait for the flow-control windows. */
  get hasQueuedData(): boolean {
    return this.#out.length > 0;
  }

  /**
   * Takes up to `max` queued octets for one DATA frame: the data, whether END_STREAM goes with it
   * (nothing queued after it and this side ended), and the callbacks of the chunks it completes.
   */
  take(max: number): { data: Buffer; end: boolean; done: Array<() => void> } {
    const parts: Buffer[] = [];
    const done: Array<() => void> = [];
    let room = max;
    while (room > 0 && this.#out.length > 0) {
      const head = this.#out[0] as Outgoing;
      if (head.data.byteLength <= room) {
        parts.push(head.data);
        room -= head.data.byteLength;
        done.push(head.done);
        this.#out.shift();
      } else {
        parts.push(head.data.subarray(0, room));
        head.data = head.data.subarray(room);
        room = 0;
      }
    }
    const end = this.#ending && this.#out.length === 0;
    if (end) this.#endSent = true;
    const data = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, max - room);
    if (end) this.#maybeClose();
    return { data, end, done };
  }

  /** A header block arrived: the response's headers, or (with END_STREAM) its trailers. */
  onHeaders(fields: readonly HeaderField[], endStream: boolean): void {
    if (this.closed) return;
    // As node:http2 gives them (status.ts's ResponseHeaders): `:status` a number, a repeated name an array.
    const headers: Record<string, string | string[] | number | undefined> = {};
    for (const [name, value] of fields) {
      const had = headers[name];
      if (name === ':status') headers[name] = Number(value);
      else if (had === undefined) headers[name] = value;
      else headers[name] = Array.isArray(had) ? [...had, value] : [String(had), value];
    }
    if (!this.#responded) {
      const status = headers[':status'];
      // An informational (1xx) answer precedes the real one.
      if (typeof status === 'number' && status >= 100 && status < 200 && !endStream) return;
      this.#responded = true;
      this.emit('response', headers);
    } else {
      this.emit('trailers', headers);
    }
    if (endStream) this.onRemoteEnd();
  }

  /** DATA for the reader (padding already removed and counted as consumed). */
  onData(data: Buffer): void {
    if (this.closed || this.#remoteEnded) return;
    if (data.byteLength === 0) return;
    this.#inbox.push(data);
    this.#deliver();
  }

  /** The server ended its side (END_STREAM). */
  onRemoteEnd(): void {
    if (this.#remoteEnded) return;
    this.#remoteEnded = true;
    this.#deliver();
  }

  /**
   * The server reset the stream, refused it (GOAWAY) or the connection is gone. A stream whose
   * answer is complete still hands it to its reader (a server may reset with NO_ERROR after
   * answering, RFC 9113 §8.1); this side stops sending either way.
   */
  onReset(code: number): void {
    if (this.closed) return;
    this.#dropOutgoing();
    this.#endSent = true;
    this.#ending = true;
    if (this.#remoteEnded) {
      this.rstCode ??= code;
      this.#maybeClose();
      return;
    }
    this.rstCode = code;
    this.#close();
  }

  #deliver(): void {
    while (!this.#paused && !this.closed && this.#inbox.length > 0) {
      const chunk = this.#inbox.shift() as Buffer;
      this.session.consumed(this, chunk.byteLength);
      this.emit('data', chunk);
    }
    if (this.#remoteEnded && this.#inbox.length === 0 && !this.#endEmitted && !this.closed) {
      this.#endEmitted = true;
      this.emit('end');
      this.#maybeClose();
    }
  }

  #maybeClose(): void {
    if (this.#endSent && this.#endEmitted && !this.closed) {
      this.rstCode ??= H2_ERROR.NO_ERROR;
      this.#close();
    }
  }

  #dropOutgoing(): void {
    const out = this.#out;
    this.#out = [];
    for (const o of out) o.done();
  }

  #close(): void {
    this.closed = true;
    this.#inbox = [];
    this.#dropOutgoing();
    this.session.forget(this);
    this.emit('close');
  }
}
