/**
 * The daemon's contracts: its options (what `tsbuildd` flags and the config file resolve to), who a
 * caller is (Principal), what a handler gets for each call (CallContext), and the handler shapes the
 * call adapter (calls.ts) turns into @grpc/grpc-js handlers. Nothing here imports gRPC.
 */

/** A listen address: `unix:///run/tsbuild/tsbuildd.sock` or `tcp://HOST:PORT`. */
export type ListenAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

export interface TlsOptions {
  /** PEM server certificate (chain) and key files. */
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM CA bundle; when set, clients must present a certificate it signed. */
  readonly caFile?: string;
}

export interface DaemonLimits {
  /** Largest gRPC message received or sent, bytes. Default 16 MiB. */
  readonly maxMessageBytes: number;
  /** Builds one client (principal) may run at once; 0 = unlimited. Default 0. */
  readonly maxBuildsPerClient: number;
  /** Largest build context one build may send, bytes; 0 = unlimited. Default 0. */
  readonly maxContextBytes: number;
}

export interface DaemonOptions {
  readonly addresses: readonly ListenAddress[];
  /** Applies to every tcp address; unix sockets rely on file permissions. */
  readonly tls?: TlsOptions;
  /** Allows tcp addresses without TLS. Default false (start-up fails instead). */
  readonly insecureTcp: boolean;
  /** `--allow-insecure-entitlement`: entitlements builds may ask for (network.host, security.insecure). */
  readonly allowedEntitlements: readonly string[];
  /** Bearer tokens file (tokens.ts); unset: no token check. */
  readonly tokenFile?: string;
  /** Group owning the unix sockets (name or numeric gid); default: `tsbuild` if it exists, else the daemon's gid. */
  readonly socketGroup?: string;
  /** The data root. */
  readonly root: string;
  /** Steps to run at once across builds. Default: number of cores. */
  readonly maxParallelism: number;
  /**
   * Cache GC bound in bytes; 0 = no automatic GC. Default (undefined): BuildKit's, 10% of the data
   * root's filesystem, as buildkitd and the in-process engine have it.
   */
  readonly gcKeepStorage?: number;
  /** How long SIGTERM waits for running calls before cancelling them, ms. Default 30 s. */
  readonly shutdownTimeoutMs: number;
  readonly limits: DaemonLimits;
}

/** What a caller may do. `readonly` may only read (Info, ListImages, Inspect, History, DiskUsage, ListBuilds, Status, Check). */
export type Role = 'admin' | 'readonly';

/** Who is calling, as authentication established it. */
export interface Principal {
  /** The token's name, the client certificate's subject CN, "local" (unix socket) or the peer address. */
  readonly name: string;
  readonly role: Role;
}

/** What every handler gets besides its request. */
export interface CallContext {
  readonly principal: Principal;
  /** Aborted when the client cancels, or when the daemon stops waiting for running calls. */
  readonly signal: AbortSignal;
  /**
   * Aborted only when the client cancelled the call or went away (`signal` fires too). Lets Solve
   * keep a build running for the clients attached to it by Status.
   */
  readonly clientGone: AbortSignal;
  /** Aborted only when the daemon cancels its running calls (shutdown; `signal` fires too). */
  readonly stopping: AbortSignal;
  /** The call came over a unix socket (the client is on this machine); unset: unknown, treated as remote. */
  readonly local?: boolean;
}

export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;
/** Sends responses with `send` (resolves once the message is handed to the transport). */
export type ServerStreamHandler<Req, Res> = (request: Req, send: (response: Res) => Promise<void>, ctx: CallContext) => Promise<void>;
/** Reads the client's messages from `requests` (ends when it half-closes), then answers once. */
export type ClientStreamHandler<Req, Res> = (requests: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>;
/** Reads requests from `requests` (ends when the client half-closes). */
export type BidiStreamHandler<Req, Res> = (requests: AsyncIterable<Req>, send: (response: Res) => Promise<void>, ctx: CallContext) => Promise<void>;

/**
 * The handler a generated method definition needs: unary, server-streaming, client-streaming or
 * bidirectional, typed by the method's decoded request and plain response.
 */
export type HandlerFor<M> = M extends {
  readonly requestStream: infer RS;
  readonly responseStream: infer SS;
  readonly requestDeserialize: (b: Buffer) => infer Req;
  readonly responseSerialize: (m: infer Res) => Buffer;
}
  ? RS extends true
    ? SS extends true ? BidiStreamHandler<Req, Res> : ClientStreamHandler<Req, Res>
    : SS extends true ? ServerStreamHandler<Req, Res> : UnaryHandler<Req, Res>
  : never;

/** Handlers for every method of a generated service object. */
export type ServiceHandlers<S> = { readonly [K in keyof S]: HandlerFor<S[K]> };
