/**
 * `type=local` caches: an OCI image layout directory (`oci-layout`, `index.json`,
 * `blobs/sha256/<hex>`) holding the cache manifest, its config and the layer blobs. Blobs are
 * written to a temp name, verified and renamed, and index.json is replaced atomically, so an
 * interrupted export never leaves a blob or index that looks whole but is not. Other entries of
 * an existing index are kept: one directory can hold several caches under different tags.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Descriptor, ImageIndex, ImageManifest } from '../../oci/types.js';
import { MediaType } from '../../oci/types.js';
import { TsbuildError, UserInputError, throwIfAborted } from '../../util/errors.js';
import type { ContentStore } from '../content-store.js';
import type { CacheBlobFetcher, FetchBlobOptions } from './types.js';

const REF_NAME = 'org.opencontainers.image.ref.name';
const DIGEST_RE = /^sha256:([0-9a-f]{64})$/;

function blobPath(dir: string, digest: string): string {
  const m = DIGEST_RE.exec(digest);
  if (!m) throw new TsbuildError('CACHE_MANIFEST_INVALID', `${digest} is not a sha256 digest`);
  return join(dir, 'blobs', 'sha256', m[1] as string);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Writes `data` to `path` through a temp file in the same directory, verifying the digest. */
async function writeVerified(path: string, data: Readable | Buffer, expected: string, signal: AbortSignal): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  const hash = createHash('sha256');
  const fh = await open(tmp, 'wx', 0o644);
  try {
    if (Buffer.isBuffer(data)) {
      hash.update(data);
      await fh.writeFile(data);
    } else {
      await pipeline(data, async function* (src: AsyncIterable<Buffer>) {
        for await (const chunk of src) {
          hash.update(chunk);
          await fh.write(chunk);
        }
      }, { signal });
    }
    await fh.sync();
    await fh.close();
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== expected) throw new TsbuildError('BLOB_DIGEST_MISMATCH', `blob ${expected} hashes to ${got}`);
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

export interface WriteLayoutOptions {
  readonly dir: string;
  readonly tag: string;
  /** The cache manifest and its config, as bytes. */
  readonly manifest: { readonly descriptor: Descriptor; readonly bytes: Buffer };
  readonly config: { readonly descriptor: Descriptor; readonly bytes: Buffer };
  /** The layer blobs to store; `open` gives each one's bytes. */
  readonly blobs: readonly Descriptor[];
  readonly open: (blob: Descriptor) => Promise<Readable>;
  readonly signal: AbortSignal;
}

/** Writes (or updates) an OCI layout directory holding one cache manifest under `tag`. */
export async function writeCacheLayout(o: WriteLayoutOptions): Promise<void> {
  await mkdir(join(o.dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of o.blobs) {
    throwIfAborted(o.signal);
    const p = blobPath(o.dir, b.digest);
    if (await exists(p)) continue;
    await writeVerified(p, await o.open(b), b.digest, o.signal);
  }
  for (const doc of [o.config, o.manifest]) {
    const p = blobPath(o.dir, doc.descriptor.digest);
    if (!(await exists(p))) await writeVerified(p, doc.bytes, doc.descriptor.digest, o.signal);
  }
  await writeFile(join(o.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const old = await readIndex(o.dir).catch(() => undefined);
  const kept = (old?.manifests ?? []).filter((m) => m.annotations?.[REF_NAME] !== o.tag);
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [...kept, { ...o.manifest.descriptor, annotations: { [REF_NAME]: o.tag } }],
  };
  const tmp = join(o.dir, `index.json.tmp-${randomBytes(6).toString('hex')}`);
  await writeFile(tmp, JSON.stringify(index));
  await rename(tmp, join(o.dir, 'index.json'));
}

async function readIndex(dir: string): Promise<ImageIndex> {
  const doc = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as unknown;
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as ImageIndex).manifests)) throw new Error('index.json has no manifests array');
  return doc as ImageIndex;
}

/** Reads a whole (small) blob, verified against its digest. */
async function readBlob(dir: string, d: Descriptor, where: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(blobPath(dir, d.digest));
  } catch {
    throw new UserInputError('CACHE_BLOB_MISSING', `${where}: blob ${d.digest} is missing`);
  }
  const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (got !== d.digest) throw new TsbuildError('BLOB_DIGEST_MISMATCH', `${where}: blob ${d.digest} is corrupt (hashes to ${got})`);
  return bytes;
}

export interface ReadLayout {
  readonly manifestDescriptor: Descriptor;
  readonly manifest: ImageManifest;
  readonly configBytes: Buffer;
}

/** The cache manifest tagged `tag` (or with `digest`) in an OCI layout directory, and its config. */
export async function readCacheLayout(dir: string, sel: { readonly tag: string; readonly digest?: string }, signal: AbortSignal): Promise<ReadLayout> {
  throwIfAborted(signal);
  const where = `local cache ${dir}`;
  let index: ImageIndex;
  try {
    index = await readIndex(dir);
  } catch (e) {
    throw new UserInputError('CACHE_NOT_FOUND', `${where}: no OCI layout index (${(e as Error).message})`);
  }
  const pick = sel.digest !== undefined
    ? index.manifests.find((m) => m.digest === sel.digest)
    : index.manifests.find((m) => m.annotations?.[REF_NAME] === sel.tag);
  if (!pick) throw new UserInputError('CACHE_NOT_FOUND', `${where}: no cache manifest ${sel.digest ?? `tagged "${sel.tag}"`}`);
  const bytes = await readBlob(dir, pick, where);
  let manifest: ImageManifest;
  try {
    manifest = JSON.parse(bytes.toString('utf8')) as ImageManifest;
  } catch {
    throw new TsbuildError('CACHE_MANIFEST_INVALID', `${where}: manifest ${pick.digest} is not JSON`);
  }
  if (typeof manifest !== 'object' || manifest === null || typeof manifest.config?.digest !== 'string' || !Array.isArray(manifest.layers)) {
    throw new TsbuildError('CACHE_MANIFEST_INVALID', `${where}: manifest ${pick.digest} is not an image manifest`);
  }
  return { manifestDescriptor: pick, manifest, configBytes: await readBlob(dir, manifest.config, where) };
}

/** Fetches blobs of a layout directory into the content store (verified by the writer). */
export function layoutFetcher(dir: string, content: ContentStore): CacheBlobFetcher {
  const name = `local cache ${dir}`;
  return {
    name,
    async fetch(blob: Descriptor, opts: FetchBlobOptions): Promise<number> {
      if (await content.claim(blob.digest)) return 0;
      const path = blobPath(dir, blob.digest);
      if (!(await exists(path))) throw new TsbuildError('CACHE_BLOB_MISSING', `${name}: blob ${blob.digest} is missing`);
      const w = content.writer({ expected: blob.digest, expectedSize: blob.size, signal: opts.signal });
      try {
        await pipeline(createReadStream(path), w, { signal: opts.signal });
        await w.commit();
      } catch (e) {
        await w.abort();
        throw e;
      }
      return blob.size;
    },
  };
}
