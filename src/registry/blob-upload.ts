/**
 * Uploading one blob: skipped when the repository has it (HEAD), mounted from another repository
 * of the same registry when the caller knows one that holds it, else uploaded — in one PUT, or in
 * PATCH chunks (Content-Range, at least the registry's OCI-Chunk-Min-Length) closed by a PUT with
 * the digest. A failed attempt is retried from scratch in a new upload session.
 */
import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import type { Descriptor } from '../oci/types.js';
import { CancelledError } from '../util/errors.js';
import { repositoryScope } from './authenticator.js';
import { drain } from './body.js';
import { isRegistryError, RegistryError } from './errors.js';
import type { RegistryHttp } from './registry-http.js';
import { responseError, unreachable } from './registry-http.js';
import { backoffMs, sleep } from './retry.js';
import type { HttpResponse } from './transport.js';
import { TransportError } from './transport.js';
import type { BlobSource, ProgressListener, TransferOutcome } from './types.js';
import type { Reference } from '../oci/reference.js';

export interface UploadBlobOptions {
  readonly http: RegistryHttp;
  /** The repository pushed to. */
  readonly ref: Reference;
  readonly descriptor: Descriptor;
  readonly source: BlobSource;
  /** Repository paths of the same registry to try mounting from. */
  readonly mountFrom: readonly string[];
  /** Chunked upload above this size; undefined = monolithic. */
  readonly chunkSize: number | undefined;
  readonly what: string;
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

type Session = { readonly kind: 'mounted' } | { readonly kind: 'upload'; readonly location: string; readonly minChunk: number };

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function pushScopes(o: UploadBlobOptions, from?: string): string[] {
  const s = [repositoryScope(o.ref.path, ['pull', 'push'])];
  if (from !== undefined) s.push(repositoryScope(from, ['pull']));
  return s;
}

function sig(o: UploadBlobOptions): { signal?: AbortSignal } {
  return o.signal ? { signal: o.signal } : {};
}

async function exists(o: UploadBlobOptions): Promise<boolean> {
  const res = await o.http.send({ domain: o.ref.domain, method: 'HEAD', target: `/v2/${o.ref.path}/blobs/${o.descriptor.digest}`, scopes: pushScopes(o), what: o.what, ...sig(o) });
  drain(res.body);
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw await responseError({ what: o.what, method: 'HEAD' }, res, 'REGISTRY_PROTOCOL', `unexpected answer checking blob ${o.descriptor.digest}`);
}

function uploadSession(o: UploadBlobOptions, res: HttpResponse): Session {
  const location = header(res, 'location');
  if (!location) throw new RegistryError('REGISTRY_PROTOCOL', `${o.what}: the registry started an upload without a Location`);
  const min = Number(header(res, 'oci-chunk-min-length') ?? 0);
  return { kind: 'upload', location, minChunk: Number.isSafeInteger(min) && min > 0 ? min : 0 };
}

/** Starts an upload session, trying cross-repository mounts first. */
async function start(o: UploadBlobOptions): Promise<Session> {
  for (const from of o.mountFrom) {
    const q = new URLSearchParams({ mount: o.descriptor.digest, from });
    let res: HttpResponse;
    try {
      res = await o.http.send({ domain: o.ref.domain, method: 'POST', target: `/v2/${o.ref.path}/blobs/uploads/?${q}`, scopes: pushScopes(o, from), what: o.what, idempotent: true, ...sig(o) });
    } catch (e) {
      // No read access to the source repository only rules out this mount.
      if (isRegistryError(e, 'REGISTRY_UNAUTHORIZED') || isRegistryError(e, 'REGISTRY_DENIED')) continue;
      throw e;
    }
    drain(res.body);
    if (res.status === 201) return { kind: 'mounted' };
    // 202: the registry could not mount and opened a normal upload instead.
    if (res.status === 202) return uploadSession(o, res);
  }
  const res = await o.http.send({ domain: o.ref.domain, method: 'POST', target: `/v2/${o.ref.path}/blobs/uploads/`, scopes: pushScopes(o), what: o.what, idempotent: true, ...sig(o) });
  drain(res.body);
  if (res.status !== 202) throw await responseError(o, res, 'REGISTRY_PROTOCOL', `could not start the upload of blob ${o.descriptor.digest}`);
  return uploadSession(o, res);
}

function withDigest(location: string, digest: string, base: URL): string {
  const u = new URL(location, base);
  u.searchParams.set('digest', digest);
  return u.href;
}

/** Maps the registry's verdict on a finished upload. */
async function finished(o: UploadBlobOptions, res: HttpResponse): Promise<void> {
  if (res.status === 201 || res.status === 204) {
    drain(res.body);
    const got = header(res, 'docker-content-digest');
    if (got !== undefined && got !== o.descriptor.digest) {
      throw new RegistryError('DIGEST_MISMATCH', `${o.what}: the registry stored blob ${o.descriptor.digest} as ${got}`);
    }
    return;
  }
  const err = await responseError(o, res, 'REGISTRY_PROTOCOL', `upload of blob ${o.descriptor.digest} failed`);
  if (err.registryCodes.includes('DIGEST_INVALID') || err.registryCodes.includes('SIZE_INVALID')) {
    throw new RegistryError('DIGEST_MISMATCH', `${o.what}: the registry rejected blob ${o.descriptor.digest}: its content does not match the digest (${err.message.slice(err.message.indexOf('(') + 1, -1)})`, {
      ...(err.status !== undefined ? { status: err.status } : {}),
      registryCodes: err.registryCodes,
    });
  }
  throw err;
}

function counted(o: UploadBlobOptions, stream: Readable, base: number): Readable {
  let n = base;
  const pass = new PassThrough();
  pass.on('data', (c: Buffer) => {
    n += c.length;
    o.onProgress?.({ kind: 'progress', digest: o.descriptor.digest, mediaType: o.descriptor.mediaType, current: n, total: o.descriptor.size });
  });
  stream.on('error', (e) => pass.destroy(e));
  return stream.pipe(pass);
}

async function monolithic(o: UploadBlobOptions, s: Extract<Session, { kind: 'upload' }>): Promise<void> {
  const d = o.descriptor;
  const res = await o.http.send({
    domain: o.ref.domain,
    method: 'PUT',
    target: withDigest(s.location, d.digest, o.http.url(o.ref.domain, '/')),
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(d.size) },
    body: async () => counted(o, await o.source.open(d.digest, sig(o)), 0),
    scopes: pushScopes(o),
    what: o.what,
    ...sig(o),
  });
  await finished(o, res);
}

/** Yields consecutive buffers of exactly `size` bytes (the last may be shorter). */
async function* chunks(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let have = 0;
  for await (const c of stream) {
    let b = c as Buffer;
    while (have + b.length >= size) {
      const take = size - have;
      pending.push(b.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      have = 0;
      b = b.subarray(take);
    }
    if (b.length) {
      pending.push(b);
      have += b.length;
    }
  }
  if (have > 0) yield Buffer.concat(pending);
}

async function chunked(o: UploadBlobOptions, s: Extract<Session, { kind: 'upload' }>, chunkSize: number): Promise<void> {
  const d = o.descriptor;
  const size = Math.max(chunkSize, s.minChunk);
  let location = s.location;
  let offset = 0;
  const stream = await o.source.open(d.digest, sig(o));
  try {
    for await (const chunk of chunks(stream, size)) {
      if (offset + chunk.length > d.size) throw new RegistryError('DIGEST_MISMATCH', `${o.what}: blob ${d.digest} in the source is larger than its descriptor's ${d.size} bytes`);
      const res = await o.http.send({
        domain: o.ref.domain,
        method: 'PATCH',
        target: location,
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
        body: chunk,
        scopes: pushScopes(o),
        what: o.what,
        ...sig(o),
      });
      if (res.status !== 202) throw await responseError(o, res, 'REGISTRY_PROTOCOL', `chunk ${offset}-${offset + chunk.length - 1} of blob ${d.digest} was refused`);
      drain(res.body);
      location = header(res, 'location') ?? location;
      offset += chunk.length;
      o.onProgress?.({ kind: 'progress', digest: d.digest, mediaType: d.mediaType, current: offset, total: d.size });
    }
  } finally {
    stream.destroy();
  }
  if (offset !== d.size) throw new RegistryError('BLOB_TRUNCATED', `${o.what}: blob ${d.digest} in the source has ${offset} bytes, its descriptor says ${d.size}`);
  const res = await o.http.send({
    domain: o.ref.domain,
    method: 'PUT',
    target: withDigest(location, d.digest, o.http.url(o.ref.domain, '/')),
    scopes: pushScopes(o),
    what: o.what,
    ...sig(o),
  });
  await finished(o, res);
}

function retryable(e: unknown): boolean {
  if (e instanceof TransportError) return true;
  return isRegistryError(e, 'REGISTRY_SERVER_ERROR') || isRegistryError(e, 'REGISTRY_UNREACHABLE');
}

/** Makes the blob present in the repository. Returns how. */
export async function uploadBlob(o: UploadBlobOptions): Promise<TransferOutcome> {
  const d = o.descriptor;
  const done = (outcome: TransferOutcome): TransferOutcome => {
    o.onProgress?.({ kind: 'done', digest: d.digest, mediaType: d.mediaType, size: d.size, outcome });
    return outcome;
  };
  if (await exists(o)) return done('exists');
  for (let attempt = 0; ; attempt++) {
    try {
      const s = await start(o);
      if (s.kind === 'mounted') return done('mounted');
      if (o.chunkSize !== undefined && d.size > o.chunkSize) await chunked(o, s, o.chunkSize);
      else await monolithic(o, s);
      return done('uploaded');
    } catch (e) {
      if (o.signal?.aborted) throw new CancelledError(o.signal.reason);
      if (!retryable(e) || attempt >= o.http.retry.retries) {
        if (e instanceof TransportError) throw unreachable({ what: o.what, domain: o.ref.domain }, e);
        throw e;
      }
      await sleep(backoffMs(o.http.retry, attempt), o.signal);
    }
  }
}
