/**
 * `tsbuild pull NAME`: an image from its registry into the local store. Layers download in
 * parallel; a layer the content store already holds (same digest) is never downloaded again. The
 * name is written last, after every blob is whole, so an interrupted pull leaves the store as it
 * was (plus complete blobs that the next pull reuses).
 */
import type { CacheStorage } from '../../cache/cache-storage.js';
import { normalizeImageRef, parseReference } from '../../oci/reference.js';
import { putName } from '../../cache/dangling-images.js';
import { DEFAULT_PLATFORM, parsePlatformSpec } from '../../registry/platform.js';
import type { TransferEvent } from '../../registry/types.js';
import { openRegistryClient, contentSink } from '../registry-access.js';
import type { CredentialLookup, PullRequest, PullSummary } from '../types.js';

export interface PullOptions {
  readonly signal: AbortSignal;
  readonly onProgress?: (e: TransferEvent) => void;
  /** Where credentials come from besides the docker config (a remote client's lookup). */
  readonly credentials?: CredentialLookup;
}

export async function pullToStore(storage: CacheStorage, req: PullRequest, opts: PullOptions): Promise<PullSummary> {
  const name = normalizeImageRef(req.ref);
  const platform = req.platform !== undefined ? parsePlatformSpec(req.platform) : DEFAULT_PLATFORM;
  const before = storage.images.get(name);
  const client = openRegistryClient(req.registry, opts.credentials);
  try {
    const outcomes = new Map<string, 'downloaded' | 'present'>();
    const res = await client.pull({
      ref: name,
      sink: contentSink(storage),
      platform,
      signal: opts.signal,
      onProgress: (e) => {
        if (e.kind === 'done') outcomes.set(e.digest, e.outcome === 'downloaded' ? 'downloaded' : 'present');
        opts.onProgress?.(e);
      },
    });
    const manifestDigest = res.manifestDescriptor.digest;
    const configDigest = res.manifest.config.digest;
    const r = parseReference(name);
    storage.db.write(() => {
      // A tag that moved leaves its old image dangling, as docker does; the pulled digest (the
      // index's, for a multi-platform image, as docker records it) becomes a RepoDigest.
      putName(storage.images, name, { manifestDigest, configDigest, mediaType: res.manifest.mediaType });
      storage.images.setRepoDigest(configDigest, `${r.domain}/${r.path}`, res.digest);
    });
    return {
      name,
      digest: res.digest,
      manifestDigest,
      configDigest,
      layers: res.layers.map((l) => ({ digest: l.digest, size: l.size, outcome: outcomes.get(l.digest) ?? 'present' })),
      upToDate: before?.manifestDigest === manifestDigest,
    };
  } finally {
    client.close();
  }
}
