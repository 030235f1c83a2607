/**
 * The layers of an image a tsbuild data root holds, read from its content store (the layout agreed
 * in docs/cache.md): what the examples benchmark reports as image size and re-push bytes. Shared by
 * the embedded builder and the daemon builder, which both own a data root.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { TsbuildError } from '../../src/util/errors.js';
import type { ImageLayer, OpOptions } from './types.js';

interface Manifest {
  readonly config: { readonly digest: string };
  readonly layers: readonly { readonly digest: string; readonly size: number; readonly mediaType: string }[];
}

interface ImageConfig {
  readonly rootfs: { readonly diff_ids: readonly string[] };
}

/** Image layers by manifest digest, with the uncompressed size of each blob remembered. */
export class TsbuildLayers {
  /** Uncompressed tar size by blob digest; a blob's bytes never change. */
  readonly #tarSizes = new Map<string, number>();

  /** `root`: the data root, read at each call (a builder's reset replaces it). */
  constructor(private readonly root: () => string) {}

  async of(tag: string, digest: string | undefined, opts: OpOptions): Promise<ImageLayer[]> {
    if (digest === undefined) throw new TsbuildError('BENCH_NO_IMAGE', `tsbuild: no image was built as ${tag}`);
    const manifest = JSON.parse(await readFile(this.#blobPath(digest), 'utf8')) as Manifest;
    const config = JSON.parse(await readFile(this.#blobPath(manifest.config.digest), 'utf8')) as ImageConfig;
    const out: ImageLayer[] = [];
    for (const [i, l] of manifest.layers.entries()) {
      const diffId = config.rootfs.diff_ids[i];
      if (diffId === undefined) throw new TsbuildError('BENCH_BAD_IMAGE', `tsbuild: image ${tag} has more layers than diff_ids`);
      const gzip = l.mediaType.endsWith('+gzip') || l.mediaType.endsWith('.gzip');
      out.push({ diffId, tarSize: gzip ? await this.#tarSize(l.digest, opts) : l.size, blobSize: l.size });
    }
    return out;
  }

  #blobPath(digest: string): string {
    const [alg, hex] = digest.split(':');
    if (alg !== 'sha256' || hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) throw new TsbuildError('BENCH_BAD_DIGEST', `not a sha256 digest: ${digest}`);
    return join(this.root(), 'content', 'blobs', 'sha256', hex);
  }

  async #tarSize(digest: string, opts: OpOptions): Promise<number> {
    const known = this.#tarSizes.get(digest);
    if (known !== undefined) return known;
    let n = 0;
    const count = new Writable({
      write(chunk: Buffer, _enc, cb) {
        n += chunk.length;
        cb();
      },
    });
    await pipeline(createReadStream(this.#blobPath(digest)), createGunzip(), count, { signal: opts.signal });
    this.#tarSizes.set(digest, n);
    return n;
  }
}
