/**
 * Pushing an image or an index: every blob first (in parallel, each skipped, mounted or
 * uploaded), then each child manifest by digest, and the root manifest last — by tag, so the tag
 * never points at something incomplete. Returns the root's digest.
 */
import type { Descriptor } from '../oci/types.js';
import { allOrFirstError } from '../util/parallel.js';
import { repositoryScope } from './authenticator.js';
import { readAll, drain } from './body.js';
import { uploadBlob } from './blob-upload.js';
import { hasherFor } from './digest.js';
import { RegistryError } from './errors.js';
import { MAX_MANIFEST_BYTES, parseManifest } from './manifest.js';
import type { ParsedManifest } from './manifest.js';
import { formatReference } from '../oci/reference.js';
import type { RegistryHttp } from './registry-http.js';
import { responseError } from './registry-http.js';
import type { BlobSource, ProgressListener, PushResult, TransferOutcome } from './types.js';
import type { Reference } from '../oci/reference.js';

export interface PushRun {
  readonly http: RegistryHttp;
  /** Normalized, with a tag or digest. */
  readonly ref: Reference;
  readonly root: Descriptor;
  readonly source: BlobSource;
  readonly mountFrom: (blob: Descriptor) => readonly string[];
  readonly chunkSize: number | undefined;
  readonly concurrency: number;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

interface Doc {
  readonly descriptor: Descriptor;
  readonly bytes: Buffer;
  readonly parsed: ParsedManifest;
}

/** Reads and verifies a manifest/index from the source. */
async function readDoc(run: PushRun, d: Descriptor, what: string): Promise<Doc> {
  const stream = await run.source.open(d.digest, run.signal ? { signal: run.signal } : {});
  const bytes = await readAll(stream, MAX_MANIFEST_BYTES, () => new RegistryError('MANIFEST_INVALID', `${what}: manifest ${d.digest} is larger than ${MAX_MANIFEST_BYTES} bytes`));
  const { hash, algorithm } = hasherFor(d.digest);
  const got = `${algorithm}:${hash.update(bytes).digest('hex')}`;
  if (got !== d.digest || bytes.length !== d.size) {
    throw new RegistryError('DIGEST_MISMATCH', `${what}: manifest ${d.digest} in the source does not match its descriptor (hashes to ${got}, ${bytes.length} bytes)`);
  }
  return { descriptor: d, bytes, parsed: parseManifest(bytes, d.mediaType, what) };
}

/**
 * Mount sources as repository paths: `host/path` names of this registry lose the host, names of
 * other registries are dropped (mounts only work inside one registry), as is the target itself.
 */
function mountCandidates(run: PushRun, blob: Descriptor): string[] {
  const out: string[] = [];
  const prefix = `${run.ref.domain}/`;
  for (const c of run.mountFrom(blob)) {
    let path = c;
    if (c.startsWith(prefix)) path = c.slice(prefix.length);
    else {
      const first = c.split('/')[0] ?? '';
      if (c.includes('/') && (first === 'localhost' || /[.:]/.test(first))) continue;
    }
    path = path.replace(/[:@].*$/, '');
    if (path !== '' && path !== run.ref.path && !out.includes(path)) out.push(path);
  }
  return out;
}

async function putManifest(run: PushRun, doc: Doc, selector: string, what: string): Promise<string> {
  const res = await run.http.send({
    domain: run.ref.domain,
    method: 'PUT',
    target: `/v2/${run.ref.path}/manifests/${selector}`,
    headers: { 'content-type': doc.descriptor.mediaType },
    body: doc.bytes,
    scopes: [repositoryScope(run.ref.path, ['pull', 'push'])],
    what,
    idempotent: true,
    ...(run.signal ? { signal: run.signal } : {}),
  });
  if (res.status !== 201 && res.status !== 200 && res.status !== 202) {
    const err = await responseError({ what }, res, 'REGISTRY_PROTOCOL', `the registry refused manifest ${doc.descriptor.digest}`);
    if (res.status === 400) throw new RegistryError('MANIFEST_INVALID', err.message, { status: 400, registryCodes: err.registryCodes });
    throw err;
  }
  drain(res.body);
  const got = res.headers['docker-content-digest'];
  if (typeof got === 'string' && got !== doc.descriptor.digest) {
    throw new RegistryError('DIGEST_MISMATCH', `${what}: the registry stored manifest ${doc.descriptor.digest} as ${got}`);
  }
  return doc.descriptor.digest;
}

/** Uploads blobs in parallel; the first failure cancels the others. */
async function pushBlobs(run: PushRun, blobs: readonly Descriptor[], what: string, outcomes: Map<string, TransferOutcome>): Promise<void> {
  const todo = blobs.filter((d) => {
    if (outcomes.has(d.digest)) return false;
    outcomes.set(d.digest, 'uploaded');
    return true;
  });
  await allOrFirstError(todo, { concurrency: run.concurrency, signal: run.signal }, async (d, _i, signal) => {
    const how = await uploadBlob({
      http: run.http,
      ref: run.ref,
      descriptor: d,
      source: run.source,
      mountFrom: mountCandidates(run, d),
      chunkSize: run.chunkSize,
      what,
      signal,
      ...(run.onProgress ? { onProgress: run.onProgress } : {}),
    });
    outcomes.set(d.digest, how);
  });
}

function blobsOf(doc: Doc): Descriptor[] {
  return doc.parsed.kind === 'image' ? [doc.parsed.manifest.config, ...doc.parsed.manifest.layers] : [];
}

export async function pushImage(run: PushRun): Promise<PushResult> {
  const what = `push ${formatReference(run.ref)}`;
  const root = await readDoc(run, run.root, what);
  const outcomes = new Map<string, TransferOutcome>();
  if (root.parsed.kind === 'index') {
    const children: Doc[] = [];
    for (const m of root.parsed.index.manifests) {
      const child = await readDoc(run, m, what);
      if (child.parsed.kind !== 'image') throw new RegistryError('MANIFEST_UNSUPPORTED', `${what}: index entry ${m.digest} is itself an index; nested indexes are not supported`);
      children.push(child);
    }
    await pushBlobs(run, children.flatMap(blobsOf), what, outcomes);
    for (const c of children) await putManifest(run, c, c.descriptor.digest, what);
  } else {
    await pushBlobs(run, blobsOf(root), what, outcomes);
  }
  const selector = run.ref.tag ?? run.ref.digest;
  if (selector === undefined) throw new Error('unreachable: push reference without tag or digest');
  const digest = await putManifest(run, root, selector, what);
  return {
    ref: run.ref,
    digest,
    mediaType: root.descriptor.mediaType,
    size: root.descriptor.size,
    blobs: [...outcomes].map(([d, outcome]) => ({ digest: d, outcome })),
  };
}
