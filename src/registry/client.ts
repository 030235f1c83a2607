/**
 * RegistryClient: the one object callers hold. It owns the connections (keep-alive agents) and
 * the token cache, so reuse one client for a build and close() it at the end.
 */
import type { Descriptor } from '../oci/types.js';
import { throwIfAborted, UserInputError } from '../util/errors.js';
import { Authenticator } from './authenticator.js';
import { drain } from './body.js';
import { downloadBlob } from './blob-download.js';
import { DockerConfigCredentials } from './docker-credentials.js';
import { fetchManifest } from './manifest-fetch.js';
import { pullImage } from './pull.js';
import { pushImage } from './push.js';
import { formatReference, isValidDomain, parseReference, withDefaultTag } from '../oci/reference.js';
import { RegistryHttp, responseError } from './registry-http.js';
import type { RetryPolicy } from './retry.js';
import { Transport } from './transport.js';
import type { BlobSink, FetchManifestResult, ProgressListener, PullOptions, PullResult, PushOptions, PushResult, RegistryClientOptions, SignalOptions, TransferOutcome } from './types.js';
import type { Reference } from '../oci/reference.js';

export interface FetchBlobOptions extends SignalOptions {
  /** The repository to read from (tag/digest ignored). */
  readonly ref: string | Reference;
  readonly descriptor: Descriptor;
  readonly sink: BlobSink;
  readonly onProgress?: ProgressListener;
}

export interface FetchManifestOptions extends SignalOptions {
  readonly ref: string | Reference;
}

/** `TSBUILD_TRACE=registry` (or a comma list containing it, or `all`) logs every request. */
function traceEnabled(env: NodeJS.ProcessEnv): boolean {
  const v = env['TSBUILD_TRACE'] ?? '';
  return v.split(',').some((x) => x.trim() === 'registry' || x.trim() === 'all');
}

function toRef(ref: string | Reference): Reference {
  return typeof ref === 'string' ? parseReference(ref) : ref;
}

export class RegistryClient {
  private readonly opts: RegistryClientOptions;
  private readonly transport: Transport;
  private readonly http: RegistryHttp;
  private readonly auth: Authenticator;

  constructor(opts: RegistryClientOptions = {}) {
    this.opts = opts;
    const retry: RetryPolicy = { retries: opts.retries ?? 3, baseMs: opts.retryBaseMs ?? 250 };
    this.transport = new Transport({
      ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
      ...(opts.caFile !== undefined ? { caFile: opts.caFile } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      userAgent: opts.userAgent ?? 'tsbuild',
      ...(traceEnabled(opts.env ?? process.env) ? { trace: (line: string) => process.stderr.write(`[registry] ${line}\n`) } : {}),
    });
    const credentials = opts.credentials ?? new DockerConfigCredentials(opts.env ? { env: opts.env } : {});
    this.auth = new Authenticator({ transport: this.transport, credentials, retry });
    this.http = new RegistryHttp({ transport: this.transport, auth: this.auth, retry });
  }

  /** Token requests sent so far, keyed by `domain realm service scopes` (the cache key). */
  get tokenFetches(): ReadonlyMap<string, number> {
    return this.auth.tokenFetches;
  }

  /**
   * Pulls an image into the sink: index (when the reference names one), the manifest of the
   * requested platform, its config and (unless `layers: 'none'`) its layers.
   */
  async pull(opts: PullOptions): Promise<PullResult> {
    throwIfAborted(opts.signal);
    return pullImage({
      http: this.http,
      ref: withDefaultTag(toRef(opts.ref)),
      sink: opts.sink,
      layers: opts.layers ?? 'all',
      concurrency: this.opts.concurrency ?? 3,
      ...(opts.platform ? { platform: opts.platform } : {}),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  /** The manifest or index a reference names, verified and parsed (nothing is stored). */
  async fetchManifest(opts: FetchManifestOptions): Promise<FetchManifestResult> {
    throwIfAborted(opts.signal);
    const ref = withDefaultTag(toRef(opts.ref));
    const m = await fetchManifest({ http: this.http, ref, what: `resolve ${formatReference(ref)}`, ...(opts.signal ? { signal: opts.signal } : {}) });
    const parsed = m.parsed.kind === 'index' ? { kind: 'index' as const, index: m.parsed.index } : { kind: 'image' as const, manifest: m.parsed.manifest };
    return { ref, descriptor: m.descriptor, bytes: m.bytes, parsed };
  }

  /** Downloads one blob of a repository into the sink (for lazy layer pulls). */
  async fetchBlob(opts: FetchBlobOptions): Promise<TransferOutcome> {
    throwIfAborted(opts.signal);
    const ref = toRef(opts.ref);
    return downloadBlob({
      http: this.http,
      ref,
      descriptor: opts.descriptor,
      sink: opts.sink,
      what: `fetch ${ref.domain}/${ref.path}@${opts.descriptor.digest}`,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  /** Pushes `root` (a manifest or an index) and everything it references, the root last. */
  async push(opts: PushOptions): Promise<PushResult> {
    throwIfAborted(opts.signal);
    const ref = withDefaultTag(toRef(opts.ref));
    if (ref.digest !== undefined && ref.digest !== opts.root.digest) {
      throw new UserInputError('PUSH_DIGEST_MISMATCH', `push ${formatReference(ref)}: the reference pins ${ref.digest} but the image is ${opts.root.digest}`);
    }
    const mf = opts.mountFrom;
    return pushImage({
      http: this.http,
      ref,
      root: opts.root,
      source: opts.source,
      mountFrom: typeof mf === 'function' ? mf : () => mf ?? [],
      chunkSize: this.opts.chunkSize,
      concurrency: this.opts.concurrency ?? 3,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  /**
   * Checks that the client's credentials are accepted by a registry (`GET /v2/` through the
   * whole challenge flow). Resolves when they are; throws REGISTRY_UNAUTHORIZED when not.
   */
  async checkAuth(domain: string, opts: SignalOptions = {}): Promise<void> {
    if (!isValidDomain(domain)) throw new UserInputError('INVALID_REGISTRY', `invalid registry address "${domain}"`);
    const what = `login ${domain}`;
    const res = await this.http.send({ domain, method: 'GET', target: '/v2/', scopes: [], what, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (res.status !== 200) throw await responseError({ what }, res, 'REGISTRY_PROTOCOL', `${domain} does not answer like an OCI registry`);
    drain(res.body);
  }

  /** Closes idle connections. The client remains usable. */
  close(): void {
    this.transport.close();
  }
}
