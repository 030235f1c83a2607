/**
 * The http(s) source (`ADD https://…`). The body streams into a file under the scratch dir while
 * its sha256 is computed; only a complete download whose checksum matches (`--checksum`) is moved
 * into the destination, so a mismatch or an abort leaves nothing behind. The file gets mode 0600
 * (or `perm`), owner 0:0 (or uid/gid) and the server's Last-Modified as mtime. It is never unpacked
 * here: Docker does not unpack remote archives (a later copy with `unpack` may).
 *
 * ETag and Last-Modified are returned so the caller can store them with the digest and make the
 * next request conditional (`previous`): a 304 then costs no transfer.
 */
import { createHash, randomUUID } from 'node:crypto';
import { copyFile, chmod, lchown, mkdir, open, rename, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Transport, type HttpResponse } from '../../registry/transport.js';
import { CancelledError, TsbuildError, UserInputError, type SourceLocation } from '../../util/errors.js';
import { downloadFilename } from './http-filename.js';
import type { HttpSourceOptions, HttpSourceResult } from './types.js';

const ALGORITHMS = { sha256: 64, sha384: 96, sha512: 128 } as const;
type Algorithm = keyof typeof ALGORITHMS;

interface Expected {
  readonly algorithm: Algorithm;
  readonly hex: string;
}

/** Parses `--checksum`; throws a user error for anything but `<sha256|sha384|sha512>:<hex>`. */
export function parseChecksum(value: string, location?: SourceLocation): Expected {
  const m = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(value.trim());
  if (!m || (m[2] as string).length !== ALGORITHMS[m[1] as Algorithm]) {
    throw new UserInputError('HTTP_BAD_CHECKSUM', `invalid checksum "${value}": expected sha256:<64 hex digits>`, location ? { location } : {});
  }
  return { algorithm: m[1] as Algorithm, hex: m[2] as string };
}

/** The URL without credentials, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = 'xxxxx';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url;
  }
}

function errOpts(location: SourceLocation | undefined, cause?: unknown): { location?: SourceLocation; cause?: unknown } {
  return { ...(location ? { location } : {}), ...(cause === undefined ? {} : { cause }) };
}

let shared: Transport | undefined;

/**
 * One keep-alive transport for the downloads of this process: node:http/https with redirects for
 * GET and an explicit trust list (util/extra-ca.ts). Node's fetch could not be told about
 * NODE_EXTRA_CA_CERTS once the launcher deferred it.
 */
function transport(): Transport {
  return (shared ??= new Transport());
}

/** Downloads `opts.url` into `opts.destDir`. */
export async function fetchHttpSource(opts: HttpSourceOptions): Promise<HttpSourceResult> {
  const shown = redactUrl(opts.url);
  const expected = opts.checksum ? parseChecksum(opts.checksum, opts.location) : undefined;
  if (opts.signal?.aborted) throw new CancelledError(opts.signal.reason);
  await mkdir(opts.tmpDir, { recursive: true });

  const headers: Record<string, string> = { ...opts.headers };
  if (opts.previous?.etag) headers['If-None-Match'] = opts.previous.etag;
  if (opts.previous?.lastModified) headers['If-Modified-Since'] = opts.previous.lastModified;

  let res: HttpResponse;
  try {
    const url = new URL(opts.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported protocol ${url.protocol}`);
    res = await transport().request({ method: 'GET', url, headers, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    if (opts.signal?.aborted) throw new CancelledError(opts.signal.reason);
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    throw new TsbuildError('HTTP_FETCH_FAILED', `failed to fetch ${shown}: ${cause}`, errOpts(opts.location, e));
  }
  if (res.status === 304 && opts.previous) {
    res.body.destroy();
    return { kind: 'not-modified', digest: opts.previous.digest };
  }
  if (res.status < 200 || res.status > 299) {
    res.body.destroy();
    throw new UserInputError('HTTP_BAD_STATUS', `failed to fetch ${shown}: invalid response status ${res.status} ${res.body.statusMessage ?? ''}`.trim(), errOpts(opts.location));
  }

  const tmp = join(opts.tmpDir, `http-${randomUUID()}`);
  let kept = false;
  try {
    const { size, sha256, other } = await streamToFile(res, tmp, expected?.algorithm, opts);
    const digest = `sha256:${sha256}`;
    if (expected) {
      const got = expected.algorithm === 'sha256' ? sha256 : (other as string);
      if (got !== expected.hex) {
        throw new UserInputError(
          'HTTP_CHECKSUM_MISMATCH',
          `checksum mismatch for ${shown}: expected ${expected.algorithm}:${expected.hex}, got ${expected.algorithm}:${got}`,
          errOpts(opts.location),
        );
      }
    }
    const filename = downloadFilename({ explicit: opts.filename, url: opts.url, contentDisposition: res.headers['content-disposition'] ?? null });
    const path = join(opts.destDir, filename);
    await moveInto(tmp, path);
    kept = true;
    await chmod(path, (opts.perm ?? 0o600) & 0o7777);
    await lchown(path, opts.uid ?? 0, opts.gid ?? 0);
    const lastModified = res.headers['last-modified'];
    const mtime = lastModified ? Date.parse(lastModified) : NaN;
    if (Number.isFinite(mtime)) await utimes(path, mtime / 1000, mtime / 1000);
    return { kind: 'downloaded', digest, size, filename, path, etag: res.headers.etag, lastModified };
  } finally {
    if (!kept) await unlink(tmp).catch(() => undefined);
  }
}

/** Streams the body into a new file, hashing as it goes. */
async function streamToFile(
  res: HttpResponse,
  path: string,
  extra: Algorithm | undefined,
  opts: HttpSourceOptions,
): Promise<{ size: number; sha256: string; other: string | undefined }> {
  const sha = createHash('sha256');
  const otherHash = extra && extra !== 'sha256' ? createHash(extra) : undefined;
  const lengthHeader = Number(res.headers['content-length']);
  const total = Number.isFinite(lengthHeader) && lengthHeader > 0 ? lengthHeader : undefined;
  const fh = await open(path, 'wx', 0o600);
  let size = 0;
  try {
    for await (const chunk of res.body) {
      const b = chunk as Buffer;
      sha.update(b);
      otherHash?.update(b);
      for (let off = 0; off < b.length; ) off += (await fh.write(b, off)).bytesWritten;
      size += b.length;
      opts.onProgress?.({ current: size, total });
    }
  } catch (e) {
    if (opts.signal?.aborted) throw new CancelledError(opts.signal.reason);
    throw new TsbuildError('HTTP_FETCH_FAILED', `failed to fetch ${redactUrl(opts.url)}: ${e instanceof Error ? e.message : String(e)}`, errOpts(opts.location, e));
  } finally {
    await fh.close();
  }
  return { size, sha256: sha.digest('hex'), other: otherHash?.digest('hex') };
}

/** Renames into place, copying when the scratch dir is on another filesystem. */
async function moveInto(tmp: string, path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
  try {
    await rename(tmp, path);
  } catch (e) {
    if ((e as { code?: string }).code !== 'EXDEV') throw e;
    await copyFile(tmp, path);
    await unlink(tmp);
  }
}
