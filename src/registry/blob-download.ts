/**
 * Downloading one blob into a BlobSink: skipped when the sink has it, hashed while streaming,
 * resumed with `Range: bytes=N-` after a broken connection (registries that ignore Range make us
 * start over), committed only when size and digest match — anything else aborts the writer so no
 * partial blob is kept.
 */
import type { Descriptor } from '../oci/types.js';
import { CancelledError, errorMessage, TsbuildError } from '../util/errors.js';
import { repositoryScope } from './authenticator.js';
import { readAll } from './body.js';
import { hasherFor } from './digest.js';
import { RegistryError } from './errors.js';
import type { RegistryHttp } from './registry-http.js';
import { responseError } from './registry-http.js';
import { backoffMs, sleep } from './retry.js';
import type { HttpResponse } from './transport.js';
import type { BlobSink, BlobWriter, ProgressListener, TransferOutcome } from './types.js';
import type { Reference } from '../oci/reference.js';

export interface BlobFetchOptions {
  readonly http: RegistryHttp;
  /** The repository the blob is read from. */
  readonly ref: Reference;
  readonly descriptor: Descriptor;
  /** The operation, for messages. */
  readonly what: string;
  readonly signal?: AbortSignal;
}

export interface DownloadBlobOptions extends BlobFetchOptions {
  readonly sink: BlobSink;
  readonly onProgress?: ProgressListener;
}

function blobPath(ref: Reference, digest: string): string {
  return `/v2/${ref.path}/blobs/${digest}`;
}

async function getBlob(o: BlobFetchOptions, offset: number): Promise<HttpResponse> {
  const res = await o.http.send({
    domain: o.ref.domain,
    method: 'GET',
    target: blobPath(o.ref, o.descriptor.digest),
    headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
    scopes: [repositoryScope(o.ref.path, ['pull'])],
    what: o.what,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (res.status === 404) throw await responseError(o, res, 'BLOB_NOT_FOUND', `blob ${o.descriptor.digest} not found`);
  if (res.status !== 200 && res.status !== 206) throw await responseError(o, res, 'REGISTRY_PROTOCOL', `unexpected answer fetching blob ${o.descriptor.digest}`);
  return res;
}

function tooLarge(o: BlobFetchOptions): RegistryError {
  return new RegistryError('DIGEST_MISMATCH', `${o.what}: blob ${o.descriptor.digest} is larger than its descriptor's ${o.descriptor.size} bytes`);
}

function mismatch(o: BlobFetchOptions, got: string): RegistryError {
  return new RegistryError('DIGEST_MISMATCH', `${o.what}: digest mismatch for blob ${o.descriptor.digest}: the content hashes to ${got}`);
}

/** The first byte a 206 response covers (`Content-Range: bytes 100-199/200`). */
function rangeStart(res: HttpResponse): number | undefined {
  const m = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(res.headers['content-range'] ?? '');
  return m ? Number(m[1]) : undefined;
}

function write(w: BlobWriter, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    w.write(chunk, (e) => (e ? reject(e) : resolve()));
  });
}

/** Downloads the blob into the sink (or finds it there). Returns how it was handled. */
export async function downloadBlob(o: DownloadBlobOptions): Promise<TransferOutcome> {
  const d = o.descriptor;
  const sig = o.signal ? { signal: o.signal } : {};
  if (await o.sink.has(d.digest, sig)) {
    o.onProgress?.({ kind: 'done', digest: d.digest, mediaType: d.mediaType, size: d.size, outcome: 'present' });
    return 'present';
  }
  const newWriter = async (): Promise<BlobWriter> => {
    const w = await o.sink.writer({ expected: d.digest, size: d.size, mediaType: d.mediaType, ...sig });
    w.on('error', () => undefined); // failures reach us through write callbacks and commit()
    return w;
  };
  // Created on the first good response, so requests that fail outright leave nothing to clean.
  let writer: BlobWriter | undefined;
  let { hash, algorithm } = hasherFor(d.digest);
  let offset = 0;
  let best = 0;
  let stalls = 0;
  let lastFailure: unknown;
  try {
    while (offset < d.size) {
      const res = await getBlob(o, offset);
      if (res.status === 206 && rangeStart(res) !== offset) {
        res.body.destroy();
        throw new RegistryError('REGISTRY_PROTOCOL', `${o.what}: registry answered a range request for blob ${d.digest} with the wrong range (${res.headers['content-range'] ?? 'none'})`);
      }
      if (res.status === 200 && offset > 0) {
        // The registry ignored Range: start over with a clean writer.
        await writer?.abort();
        writer = undefined;
        ({ hash, algorithm } = hasherFor(d.digest));
        offset = 0;
        o.onProgress?.({ kind: 'progress', digest: d.digest, mediaType: d.mediaType, current: 0, total: d.size });
      }
      writer ??= await newWriter();
      const announced = Number(res.headers['content-length']);
      if (res.status === 200 && Number.isFinite(announced) && announced > d.size) {
        res.body.destroy();
        throw tooLarge(o);
      }
      try {
        for await (const c of res.body) {
          const chunk = c as Buffer;
          if (offset + chunk.length > d.size) {
            res.body.destroy();
            throw tooLarge(o);
          }
          hash.update(chunk);
          await write(writer, chunk);
          offset += chunk.length;
          o.onProgress?.({ kind: 'progress', digest: d.digest, mediaType: d.mediaType, current: offset, total: d.size });
        }
      } catch (e) {
        if (o.signal?.aborted) throw new CancelledError(o.signal.reason);
        if (e instanceof TsbuildError) throw e;
        lastFailure = e; // the connection broke mid-body: resume below
      }
      if (offset >= d.size) break;
      // Only attempts that bring no new bytes count against the retry budget.
      if (offset > best) {
        best = offset;
        stalls = 0;
      } else if (++stalls > o.http.retry.retries) {
        const why = lastFailure === undefined ? 'the registry ended the body early' : errorMessage(lastFailure);
        throw new RegistryError('BLOB_TRUNCATED', `${o.what}: blob ${d.digest} truncated: received ${best} of ${d.size} bytes (${why})`, { cause: lastFailure });
      }
      await sleep(backoffMs(o.http.retry, stalls), o.signal);
    }
    const got = `${algorithm}:${hash.digest('hex')}`;
    if (got !== d.digest) throw mismatch(o, got);
    writer ??= await newWriter(); // an empty blob needs no request
    await writer.commit();
  } catch (e) {
    await writer?.abort().catch(() => undefined);
    throw e;
  }
  o.onProgress?.({ kind: 'done', digest: d.digest, mediaType: d.mediaType, size: d.size, outcome: 'downloaded' });
  return 'downloaded';
}

/** Fetches a small blob (an image config) into memory, verified. Resends on broken transfers. */
export async function fetchBlobBytes(o: BlobFetchOptions & { readonly limit: number }): Promise<Buffer> {
  const d = o.descriptor;
  if (d.size > o.limit) throw new RegistryError('MANIFEST_INVALID', `${o.what}: blob ${d.digest} is ${d.size} bytes, more than the ${o.limit} allowed for it`);
  for (let attempt = 0; ; attempt++) {
    const res = await getBlob(o, 0);
    let bytes: Buffer;
    try {
      bytes = await readAll(res.body, d.size, () => tooLarge(o));
    } catch (e) {
      if (o.signal?.aborted) throw new CancelledError(o.signal.reason);
      if (e instanceof TsbuildError || attempt >= o.http.retry.retries) {
        if (e instanceof TsbuildError) throw e;
        throw new RegistryError('BLOB_TRUNCATED', `${o.what}: blob ${d.digest} truncated: ${errorMessage(e)}`, { cause: e });
      }
      await sleep(backoffMs(o.http.retry, attempt), o.signal);
      continue;
    }
    if (bytes.length < d.size) {
      if (attempt < o.http.retry.retries) {
        await sleep(backoffMs(o.http.retry, attempt), o.signal);
        continue;
      }
      throw new RegistryError('BLOB_TRUNCATED', `${o.what}: blob ${d.digest} truncated: received ${bytes.length} of ${d.size} bytes`);
    }
    const { hash, algorithm } = hasherFor(d.digest);
    const got = `${algorithm}:${hash.update(bytes).digest('hex')}`;
    if (got !== d.digest) throw mismatch(o, got);
    return bytes;
  }
}

/** Stores bytes the client already verified (configs, manifests) unless the sink has them. */
export async function storeBytes(sink: BlobSink, d: Descriptor, bytes: Buffer, signal?: AbortSignal): Promise<TransferOutcome> {
  const sig = signal ? { signal } : {};
  if (await sink.has(d.digest, sig)) return 'present';
  const w = await sink.writer({ expected: d.digest, size: d.size, mediaType: d.mediaType, ...sig });
  w.on('error', () => undefined);
  try {
    if (bytes.length > 0) await write(w, bytes);
    await w.commit();
  } catch (e) {
    await w.abort().catch(() => undefined);
    throw e;
  }
  return 'downloaded';
}
