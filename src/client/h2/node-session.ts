/**
 * TLS connections to tsbuildd, through node:http2: the client's own HTTP/2 connection
 * (connection.ts) speaks over unix sockets and plain TCP only. node:http2 is required when the
 * first TLS session opens, so a command reaching its daemon any other way never loads it (nor the
 * ~90 built-in modules it brings, issue 10). Both kinds of session look the same to the channel.
 */
import type * as Http2 from 'node:http2';
import { lazyBuiltin } from '../../util/lazy-builtin.js';
import type { CallStream } from './call.js';
import type { HeaderField } from './hpack.js';

/** A stream as the channel needs it: the call's part, and its close. */
export type SessionStream = CallStream & { once(event: 'close', listener: () => void): unknown };

/** An HTTP/2 client connection as the channel uses it (H2Connection has this shape too). */
export interface Session {
  /** True when it takes no new streams (going away, closing or gone): the next call opens another. */
  readonly closed: boolean;
  /** Why it failed, if it did (the UNAVAILABLE status of its calls names it). */
  readonly error: Error | undefined;
  /**
   * Settles once the transport is connected, or has failed: what is written before sits in the
   * socket's buffer until the event loop gets to the connection's completion.
   */
  readonly connected: Promise<void>;
  request(headers: readonly HeaderField[]): SessionStream;
  ref(): void;
  unref(): void;
  /** Ends once its streams have; no new ones. */
  close(): void;
}

const nodeHttp2 = lazyBuiltin<typeof Http2>('node:http2');

export interface TlsOptions {
  readonly ca: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export class NodeTlsSession implements Session {
  /** node:http2 holds what is written before its TLS session is up, and sends it then. */
  readonly connected: Promise<void> = Promise.resolve();
  readonly #session: Http2.ClientHttp2Session;
  #goaway = false;
  error: Error | undefined;

  constructor(authority: string, tls: TlsOptions) {
    const session = nodeHttp2().connect(`https://${authority}`, { ca: tls.ca, ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}) });
    this.#session = session;
    session.on('error', (e: Error) => {
      this.error ??= e;
    });
    session.once('goaway', () => {
      this.#goaway = true;
    });
  }

  get closed(): boolean {
    return this.#goaway || this.#session.closed || this.#session.destroyed;
  }

  request(headers: readonly HeaderField[]): SessionStream {
    return this.#session.request(Object.fromEntries(headers), { endStream: false });
  }

  ref(): void {
    this.#session.ref();
  }

  unref(): void {
    if (!this.#session.destroyed) this.#session.unref();
  }

  close(): void {
    if (!this.#session.closed) this.#session.close();
  }
}
