/**
 * The client's connection to tsbuildd: one HTTP/2 session on `node:http2`, over a unix socket
 * (`unix:///PATH`) or TCP (`tcp://HOST:PORT`, with TLS when a CA is given, and a client
 * certificate for daemons that require one). It replaces @grpc/grpc-js in the CLI, whose loading
 * alone cost more CPU than issue 10 allows a whole no-op build (docs/benchmarks.md); the daemon
 * keeps grpc-js. The session is opened by `connect()` (so the handshake overlaps the caller's own
 * work, such as walking the build context) or by the first call; a session that fails or is told
 * to go away is replaced on the next call. It holds the process open only while calls are active.
 */
import { connect as h2connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { H2Call, type CallCodec } from './call.js';

/** Where the daemon is and how to reach it. */
export interface ChannelOptions {
  /** A socket path (unix) or host and port (tcp). */
  readonly target: { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'tcp'; readonly host: string; readonly port: number };
  /** TLS (tcp only): the CA that signed the daemon's certificate, and this client's certificate. */
  readonly tls?: { readonly ca: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  /** Sent on every call, e.g. `authorization`. */
  readonly headers?: Readonly<Record<string, string>>;
}

const USER_AGENT = 'tsbuild-h2';

export class H2Channel {
  readonly #opts: ChannelOptions;
  #session: ClientHttp2Session | undefined;
  /** Why a session failed, if it did (named in the UNAVAILABLE status of its calls). */
  readonly #sessionErrors = new WeakMap<ClientHttp2Session, Error>();
  /** Calls in progress, per session. */
  readonly #active = new WeakMap<ClientHttp2Session, number>();
  #closed = false;

  constructor(opts: ChannelOptions) {
    this.#opts = opts;
  }

  /** Opens the session now, so it is (being) set up when the first call starts. */
  connect(): void {
    if (!this.#closed) this.#live();
  }

  /** Starts a call of `path`; write its requests, read its answers (see H2Call). */
  call<Req, Res>(path: string, codec: CallCodec<Req, Res>): H2Call<Req, Res> {
    if (this.#closed) throw new Error('the channel is closed');
    const session = this.#live();
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: path,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      [constants.HTTP2_HEADER_TE]: 'trailers',
      [constants.HTTP2_HEADER_USER_AGENT]: USER_AGENT,
      ...this.#opts.headers,
    }, { endStream: false });
    // A call on a session that failed (refused, TLS handshake) ends UNAVAILABLE, naming why.
    const call = new H2Call<Req, Res>(stream, codec, () => this.#sessionErrors.get(session));
    // Counted per session: a replaced session may still be finishing calls of its own.
    this.#active.set(session, (this.#active.get(session) ?? 0) + 1);
    session.ref();
    stream.once('close', () => {
      const left = (this.#active.get(session) ?? 1) - 1;
      this.#active.set(session, left);
      if (left === 0 && !session.destroyed) session.unref();
    });
    return call;
  }

  /** Closes the session once its calls have ended; new calls fail. */
  close(): void {
    this.#closed = true;
    const s = this.#session;
    this.#session = undefined;
    if (s && !s.closed) s.close();
  }

  #live(): ClientHttp2Session {
    const current = this.#session;
    if (current && !current.closed && !current.destroyed) return current;
    const { target, tls } = this.#opts;
    const session = target.kind === 'unix'
      ? h2connect('http://localhost', { createConnection: () => netConnect(target.path) })
      : h2connect(`${tls ? 'https' : 'http'}://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`,
        tls ? { ca: tls.ca, ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}) } : {});
    this.#session = session;
    session.unref();
    session.on('error', (e: Error) => {
      this.#sessionErrors.set(session, e);
    });
    // A draining or closed session takes no new calls; the next call opens another.
    const drop = (): void => {
      if (this.#session === session) this.#session = undefined;
    };
    session.once('goaway', drop);
    session.once('close', drop);
    return session;
  }
}
