/**
 * One gRPC call on an HTTP/2 stream, as an object-mode Duplex (the shape of a @grpc/grpc-js call,
 * so grpc-solve.ts iterates it, writes with backpressure and half-closes as before): written
 * requests are serialized and framed (framing.ts); DATA is deframed and deserialized into readable
 * messages, the HTTP/2 stream pausing while the reader is behind. The call ends with the trailers'
 * status (status.ts): OK ends the readable side, anything else destroys the call with a
 * GrpcStatusError — once the reader has taken the messages that came before it (destroying a
 * stream drops what it buffered: a quiet Solve's held progress, sent in one burst with its error,
 * lost the failed step's report). `cancel()` resets the stream with CANCEL, which the server sees as a cancelled
 * call, and fails the call with CANCELLED at once.
 */
import { Duplex } from 'node:stream';
import { FramingError, frameMessage, MessageDecoder } from './framing.js';
import { GRPC_STATUS } from './status-codes.js';
import { GrpcStatusError, ResponseMetadata, statusFromHttp, statusFromReset, statusFromTrailers, type CallStatus, type ResponseHeaders } from './status.js';

/** RST_STREAM codes the call sends or tests for (RFC 9113 §7; node:http2's NGHTTP2_* constants). */
const NO_ERROR = 0x0;
const CANCEL = 0x8;

/**
 * The part of an HTTP/2 client stream a call uses: the client's own (stream.ts, on node:net) or
 * node:http2's ClientHttp2Stream (TLS, node-session.ts), which has this shape.
 */
export interface CallStream {
  /** Kept by the call: a closed node:http2 stream forgets its session. */
  readonly session: { readonly destroyed: boolean } | undefined;
  readonly closed: boolean;
  readonly rstCode: number | undefined;
  readonly writableEnded: boolean;
  on(event: 'response' | 'trailers', listener: (headers: ResponseHeaders) => void): this;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'error', listener: (e: Error) => void): this;
  on(event: 'end' | 'close', listener: () => void): this;
  pause(): this;
  resume(): this;
  isPaused(): boolean;
  write(chunk: Buffer, cb: (error?: Error | null) => void): boolean;
  end(): this;
  close(code?: number): void;
}

/** How a call's messages become bytes and back (a generated method's serializers). */
export interface CallCodec<Req, Res> {
  readonly requestSerialize: (message: Req) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => Res;
}

/** Why the stream failed below gRPC (the connection), for the UNAVAILABLE status it becomes. */
export type TransportFailure = () => Error | undefined;

export class H2Call<Req, Res> extends Duplex {
  readonly #stream: CallStream;
  /** Kept: a closed stream forgets its session. */
  readonly #session: CallStream['session'];
  readonly #codec: CallCodec<Req, Res>;
  readonly #transportFailure: TransportFailure;
  readonly #decoder = new MessageDecoder();
  #headersStatus: CallStatus | undefined;
  #trailersStatus: CallStatus | undefined;
  #streamError: Error | undefined;
  #status: CallStatus | undefined;
  /** The server's failure status, waiting for the reader to take the messages buffered before it. */
  #failAfterRead: CallStatus | undefined;

  constructor(stream: CallStream, codec: CallCodec<Req, Res>, transportFailure: TransportFailure) {
    super({ objectMode: true });
    this.#stream = stream;
    this.#session = stream.session;
    this.#codec = codec;
    this.#transportFailure = transportFailure;
    stream.on('response', (h: ResponseHeaders) => {
      const bad = statusFromHttp(h);
      if (bad) this.#fail(bad);
      // A trailers-only answer (an error before any message) has the status in its headers.
      else this.#headersStatus = statusFromTrailers(h);
    });
    stream.on('trailers', (h: ResponseHeaders) => {
      this.#trailersStatus = statusFromTrailers(h);
    });
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('error', (e: Error) => {
      this.#streamError ??= e;
    });
    // The status comes with the server's end of the stream; the stream itself closes only when
    // this side has ended too, which a bidi caller may do later (or never, on failure).
    stream.on('end', () => this.#onEnd());
    // Deferred a turn: when the connection fails, the session's error comes after the streams close.
    stream.on('close', () => setImmediate(() => this.#onClose()));
  }

  /** The final status once the call has ended (OK included); undefined before. */
  get status(): CallStatus | undefined {
    return this.#status;
  }

  /** Ends the call from this side: the server sees it cancelled; the call fails with CANCELLED. */
  cancel(): void {
    this.#fail({ code: GRPC_STATUS.CANCELLED, details: 'Cancelled on client', metadata: new ResponseMetadata() });
  }

  #onData(chunk: Buffer): void {
    if (this.#status) return;
    let messages: Buffer[];
    try {
      messages = this.#decoder.push(chunk);
    } catch (e) {
      this.#fail({ code: GRPC_STATUS.INTERNAL, details: e instanceof FramingError ? e.message : String(e), metadata: new ResponseMetadata() });
      return;
    }
    for (const bytes of messages) {
      let message: Res;
      try {
        message = this.#codec.responseDeserialize(bytes);
      } catch (e) {
        this.#fail({ code: GRPC_STATUS.INTERNAL, details: `Response message parsing error: ${e instanceof Error ? e.message : String(e)}`, metadata: new ResponseMetadata() });
        return;
      }
      if (!this.push(message)) this.#stream.pause();
    }
  }

  #onEnd(): void {
    if (this.#status || this.#failAfterRead) return;
    const trailers = this.#trailersStatus ?? this.#headersStatus;
    if (!trailers) return; // #onClose names what happened
    if (trailers.code === GRPC_STATUS.OK && this.#decoder.pending) {
      this.#fail({ code: GRPC_STATUS.INTERNAL, details: 'the call ended inside a message', metadata: trailers.metadata });
    } else this.#finish(trailers);
  }

  #onClose(): void {
    this.#onEnd();
    if (this.#status || this.#failAfterRead) return;
    const transport = this.#transportFailure() ?? causeOf(this.#streamError);
    // A stream the session dropped (connection lost, handshake refused) without a word is the same.
    const dropped = this.#session?.destroyed === true && this.#stream.rstCode === CANCEL;
    if (transport || dropped) {
      this.#fail({ code: GRPC_STATUS.UNAVAILABLE, details: transport ? `No connection established. Last error: ${String(transport)}` : 'Connection dropped', metadata: new ResponseMetadata() });
    } else if (this.#stream.rstCode !== undefined && this.#stream.rstCode !== NO_ERROR) {
      this.#fail(statusFromReset(this.#stream.rstCode));
    } else {
      this.#fail({ code: GRPC_STATUS.INTERNAL, details: 'the server ended the call without a status', metadata: new ResponseMetadata() });
    }
  }

  #finish(status: CallStatus): void {
    if (this.#status) return;
    if (status.code !== GRPC_STATUS.OK) {
      if (this.readableLength > 0) this.#failAfterRead = status;
      else this.#fail(status);
      return;
    }
    this.#status = status;
    // The server is done: close our half too (later writes are dropped), so the stream ends.
    if (!this.#stream.writableEnded) this.#stream.end();
    this.emit('status', status);
    this.push(null);
  }

  #fail(status: CallStatus): void {
    if (this.#status) return;
    this.#status = status;
    if (!this.#stream.closed) this.#stream.close(CANCEL);
    this.emit('status', status);
    this.destroy(new GrpcStatusError(status));
  }

  /** Every way of reading (the async iterator, 'data') takes messages through here. */
  override read(size?: number): Res {
    const message = super.read(size) as Res;
    const failure = this.#failAfterRead;
    if (failure !== undefined && this.readableLength === 0) {
      this.#failAfterRead = undefined;
      process.nextTick(() => this.#fail(failure));
    }
    return message;
  }

  override _read(): void {
    if (this.#stream.isPaused()) this.#stream.resume();
  }

  override _write(message: Req, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    // Writes after the call ended are dropped (as grpc-js does): the status already says why.
    if (this.#status || this.#stream.closed) {
      done();
      return;
    }
    let frame: Buffer;
    try {
      frame = frameMessage(this.#codec.requestSerialize(message));
    } catch (e) {
      this.#fail({ code: GRPC_STATUS.INTERNAL, details: `Request message serialization failure: ${e instanceof Error ? e.message : String(e)}`, metadata: new ResponseMetadata() });
      done();
      return;
    }
    this.#stream.write(frame, () => done());
  }

  override _final(done: (error?: Error | null) => void): void {
    if (!this.#status && !this.#stream.closed) this.#stream.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // Destroyed from outside before the call ended: the server must not keep working for nobody.
    if (!this.#status) {
      this.#status = { code: GRPC_STATUS.CANCELLED, details: 'Cancelled on client', metadata: new ResponseMetadata() };
      if (!this.#stream.closed) this.#stream.close(CANCEL);
    }
    done(error);
  }
}

/** A stream cancelled because its session failed carries the session's error as its cause. */
function causeOf(e: Error | undefined): Error | undefined {
  return e?.cause instanceof Error ? e.cause : e;
}
