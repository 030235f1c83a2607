/**
 * How the engine reaches registries: one RegistryClient per operation (a build, a pull, a push)
 * configured from the request — insecure registries, an extra CA, the client's docker config
 * directory for credentials, or a caller's credential lookup (a remote client answering for its
 * own docker config) — and the content store adapted to the client's blob seams.
 */
import { Readable, Writable } from 'node:stream';
import type { CacheStorage } from '../cache/cache-storage.js';
import type { CredentialLookup, RegistryAccess } from './types.js';
import { RegistryClient } from '../registry/client.js';
import { DockerConfigCredentials } from '../registry/docker-credentials.js';
import type { BlobSink, BlobSource, BlobWriter, BlobWriterOptions, BlobOpenOptions, CredentialStore, SignalOptions } from '../registry/types.js';

/**
 * The caller's lookup first; when it has nothing for a host (anonymous), the engine's own docker
 * config — so a daemon's configured credentials still serve clients that have none.
 */
function lookupThenOwn(lookup: CredentialLookup, own: CredentialStore): CredentialStore {
  return {
    async get(domain, opts = {}) {
      const c = await lookup(domain, opts.signal ?? new AbortController().signal);
      return c.kind === 'anonymous' ? own.get(domain, opts) : c;
    },
  };
}

/** A client for one operation; close() it when done. */
export function openRegistryClient(access: RegistryAccess = {}, lookup?: CredentialLookup): RegistryClient {
  const own = access.dockerConfigDir !== undefined ? new DockerConfigCredentials({ configDir: access.dockerConfigDir }) : undefined;
  const credentials = lookup ? lookupThenOwn(lookup, own ?? new DockerConfigCredentials()) : own;
  return new RegistryClient({
    ...(access.insecureRegistries?.length ? { insecureRegistries: access.insecureRegistries } : {}),
    ...(access.caFile !== undefined ? { caFile: access.caFile } : {}),
    ...(credentials ? { credentials } : {}),
  });
}

/** Pulled blobs go into the content store: verified by the client, committed atomically. */
export function contentSink(storage: CacheStorage): BlobSink {
  return {
    // A blob already stored is claimed: garbage collection must not take it before it is named.
    has: (digest: string, opts?: SignalOptions) => storage.content.claim(digest, opts?.signal ? { signal: opts.signal } : {}),
    writer: (o: BlobWriterOptions): BlobWriter => storage.content.writer({ expected: o.expected, expectedSize: o.size, ...(o.signal ? { signal: o.signal } : {}) }),
  };
}

export interface ContentSourceOptions {
  /** Documents made on the fly (a cache manifest and its config), served before the store. */
  readonly extra?: ReadonlyMap<string, Buffer>;
  /** Called for a blob the store lacks; brings it into the store (e.g. from an imported cache). */
  readonly fetchMissing?: (digest: string, signal: AbortSignal | undefined) => Promise<void>;
}

/** Pushed blobs come from the content store (only those the registry lacks are ever opened). */
export function contentSource(storage: CacheStorage, opts: ContentSourceOptions = {}): BlobSource {
  return {
    async open(digest: string, o?: BlobOpenOptions): Promise<Readable> {
      const bytes = opts.extra?.get(digest);
      if (bytes) return Readable.from([bytes.subarray(o?.offset ?? 0)]);
      if (opts.fetchMissing && !(await storage.content.has(digest))) await opts.fetchMissing(digest, o?.signal);
      return storage.content.reader(digest, { ...(o?.offset !== undefined ? { offset: o.offset } : {}), ...(o?.signal ? { signal: o.signal } : {}) });
    },
  };
}

/** A sink that keeps nothing: for reading manifests and configs without storing them. */
export function discardSink(): BlobSink {
  return { has: async () => false, writer: discardWriter };
}

function discardWriter(): BlobWriter {
  const w = new Writable({ write: (_c, _e, cb) => cb() }) as Writable & BlobWriter;
  w.commit = async () => undefined;
  w.abort = async () => {
    w.destroy();
  };
  return w;
}
