/**
 * The client's connection to tsbuildd: one HTTP/2 session over a unix socket (`unix:///PATH`) or
 * TCP (`tcp://HOST:PORT`), with TLS when a CA is given (and a client certificate for daemons that
 * require one). Over a unix socket or plain TCP the session is the client's own HTTP/2 connection
 * on node:net (connection.ts); with TLS it is node:http2's (node-session.ts), loaded only then.
 * Both replace @grpc/grpc-js in the CLI, whose loading alone cost more CPU than issue 10 allows a
 * whole no-op build (docs/benchmarks.md); the daemon keeps grpc-js. The session is opened by
 * `connect()` (so the handshake overlaps the caller's own work, such as walking the build context)
 * or by the first call; a session that fails or is told to go away is replaced on the next call.
 * It holds the process open only while calls are active.
 */
import { connect as netConnect } from 'node:net';
import { H2Call, type CallCodec } from './call.js';
import { H2Connection } from './connection.js';
import type { HeaderField } from './hpack.js';
import { NodeTlsSession, type Session, type SessionStream, type TlsOptions } from './node-session.js';
import { RetryingStream } from './retry-stream.js';

/** Where the daemon is and how to reach it. */
export interface ChannelOptions {
  /** A socket path (unix) or host and port (tcp). */
  readonly target: { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'tcp'; readonly host: string; readonly port: number };
  /** TLS (tcp only): the CA that signed the daemon's certificate, and this client's certificate. */
  readonly tls?: TlsOptions;
  /** Sent on every call, e.g. `authorization`. */
  readonly headers?: Readonly<Record<string, string>>;
}

const USER_AGENT = 'tsbuild-h2';

export class H2Channel {
  readonly #opts: ChannelOptions;
  /** The request headers every call sends after its `:path`. */
  readonly #common: readonly HeaderField[];
  readonly #authority: string;
  #session: Session | undefined;
  /** Calls in progress, per session. */
  readonly #active = new WeakMap<Session, number>();
  #closed = false;

  constructor(opts: ChannelOptions) {
    this.#opts = opts;
    const t = opts.target;
    this.#authority = t.kind === 'unix' ? 'localhost' : `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
    this.#common = [
      ['content-type', 'application/grpc'], ['te', 'trailers'], ['user-agent', USER_AGENT],
      ...Object.entries(opts.headers ?? {}).map(([k, v]): HeaderField => [k.toLowerCase(), v]),
    ];
  }

  /** Opens the session now, so it is (being) set up when the first call starts. */
  connect(): void {
    if (!this.#closed) this.#live();
  }

  /**
   * Settles once the session's transport is connected (or has failed). A socket's connection
   * completes only when the event loop gets to it: a call's first message written before then is
   * held in the socket until the caller's synchronous work that follows is done and the loop runs
   * (a unix socket's Solve start reached the daemon ~3 ms late, issue 14). Awaiting this first lets
   * the loop complete the connection, so the message goes out as it is written.
   */
  connected(): Promise<void> {
    return this.#closed ? Promise.resolve() : this.#live().connected;
  }

  /**
   * Starts a call of `path`; write its requests, read its answers (see H2Call). A stream the
   * server refuses before answering is opened again (retry-stream.ts), on a new connection when
   * the old one is going away.
   */
  call<Req, Res>(path: string, codec: CallCodec<Req, Res>): H2Call<Req, Res> {
    if (this.#closed) throw new Error('the channel is closed');
    const headers: HeaderField[] = [
      [':method', 'POST'], [':scheme', this.#opts.tls ? 'https' : 'http'], [':path', path], [':authority', this.#authority], ...this.#common,
    ];
    let session = this.#live();
    const stream = new RetryingStream(() => {
      if (this.#closed) throw new Error('the channel is closed');
      session = this.#live();
      return this.#track(session, session.request(headers));
    });
    // A call on a session that failed (refused, TLS handshake) ends UNAVAILABLE, naming why.
    return new H2Call<Req, Res>(stream, codec, () => session.error);
  }

  /** Counts `stream` against its session, which keeps the process alive while it has calls. */
  #track(session: Session, stream: SessionStream): SessionStream {
    // Counted per session: a replaced session may still be finishing calls of its own.
    this.#active.set(session, (this.#active.get(session) ?? 0) + 1);
    session.ref();
    stream.once('close', () => {
      const left = (this.#active.get(session) ?? 1) - 1;
      this.#active.set(session, left);
      if (left === 0) session.unref();
    });
    return stream;
  }

  /** Closes the session once its calls have ended; new calls fail. */
  close(): void {
    this.#closed = true;
    const s = this.#session;
    this.#session = undefined;
    s?.close();
  }

  #live(): Session {
    const current = this.#session;
    if (current && !current.closed) return current;
    const { target, tls } = this.#opts;
    let session: Session;
    if (tls && target.kind === 'tcp') {
      session = new NodeTlsSession(this.#authority, tls);
    } else {
      const socket = target.kind === 'unix' ? netConnect(target.path) : netConnect({ host: target.host, port: target.port });
      if (target.kind === 'tcp') socket.setNoDelay(true);
      session = new H2Connection(socket);
    }
    session.unref();
    this.#session = session;
    return session;
  }
}
