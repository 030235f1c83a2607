/**
 * Fetching one manifest or index by tag or digest: Accept header with every supported type,
 * bounded body, digest verified (against the reference's digest when pinned, else against the
 * registry's Docker-Content-Digest), parsed and shape-checked.
 */
import type { Descriptor } from '../oci/types.js';
import { CancelledError, errorMessage, TsbuildError } from '../util/errors.js';
import { repositoryScope } from './authenticator.js';
import { readAll } from './body.js';
import { hasherFor, sha256Digest } from './digest.js';
import { RegistryError } from './errors.js';
import type { ParsedManifest } from './manifest.js';
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES, parseManifest } from './manifest.js';
import type { RegistryHttp } from './registry-http.js';
import { responseError } from './registry-http.js';
import { backoffMs, sleep } from './retry.js';
import { formatReference } from '../oci/reference.js';
import type { Reference } from '../oci/reference.js';

export interface FetchedManifest {
  readonly descriptor: Descriptor;
  readonly bytes: Buffer;
  readonly parsed: ParsedManifest;
}

export interface ManifestFetchOptions {
  readonly http: RegistryHttp;
  /** Must carry a tag or a digest. */
  readonly ref: Reference;
  readonly what: string;
  readonly signal?: AbortSignal;
}

export async function fetchManifest(o: ManifestFetchOptions): Promise<FetchedManifest> {
  const { ref } = o;
  const selector = ref.digest ?? ref.tag;
  if (selector === undefined) throw new TsbuildError('INVALID_REFERENCE', `${o.what}: reference has neither tag nor digest`);
  for (let attempt = 0; ; attempt++) {
    const res = await o.http.send({
      domain: ref.domain,
      method: 'GET',
      target: `/v2/${ref.path}/manifests/${selector}`,
      headers: { accept: MANIFEST_ACCEPT },
      scopes: [repositoryScope(ref.path, ['pull'])],
      what: o.what,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (res.status === 404) throw await responseError(o, res, 'MANIFEST_NOT_FOUND', `manifest for ${formatReference(ref)} not found`);
    if (res.status !== 200) throw await responseError(o, res, 'REGISTRY_PROTOCOL', `unexpected answer fetching the manifest`);
    let bytes: Buffer;
    try {
      bytes = await readAll(res.body, MAX_MANIFEST_BYTES, () => new RegistryError('MANIFEST_INVALID', `${o.what}: manifest is larger than ${MAX_MANIFEST_BYTES} bytes`));
    } catch (e) {
      if (o.signal?.aborted) throw new CancelledError(o.signal.reason);
      if (e instanceof TsbuildError) throw e;
      if (attempt < o.http.retry.retries) {
        await sleep(backoffMs(o.http.retry, attempt), o.signal);
        continue;
      }
      throw new RegistryError('BLOB_TRUNCATED', `${o.what}: manifest transfer broke off: ${errorMessage(e)}`, { cause: e });
    }
    const declared = res.headers['docker-content-digest'];
    let digest: string;
    if (ref.digest !== undefined) {
      const { hash, algorithm } = hasherFor(ref.digest);
      digest = `${algorithm}:${hash.update(bytes).digest('hex')}`;
      if (digest !== ref.digest) {
        throw new RegistryError('DIGEST_MISMATCH', `${o.what}: digest mismatch: the manifest served for ${ref.digest} hashes to ${digest}`);
      }
    } else {
      digest = sha256Digest(bytes);
      if (typeof declared === 'string' && declared.startsWith('sha256:') && declared !== digest) {
        throw new RegistryError('DIGEST_MISMATCH', `${o.what}: digest mismatch: the registry says the manifest is ${declared} but it hashes to ${digest}`);
      }
    }
    const parsed = parseManifest(bytes, res.headers['content-type'], o.what);
    return { descriptor: { mediaType: parsed.mediaType, digest, size: bytes.length }, bytes, parsed };
  }
}
