/**
 * `tsbuild image import` (like `docker import`): a root filesystem — a tarball (plain, gzip, bzip2,
 * xz, zstd), a directory, or stdin — becomes a one-layer image in the local store. The layer is
 * stored gzip-compressed and unpacked into its snapshot at once (engine.ts, images/unpack-stored.ts),
 * as `docker import` extracts it: the first build FROM it does not wait for that.
 * `--platform` sets the config's os/architecture/variant (Docker 20.10 documents it but writes amd64).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { CacheStorage } from '../../cache/cache-storage.js';
import type { ImageEntry } from '../../cache/types.js';
import { normalizeImageRef } from '../../oci/reference.js';
import type { ImageConfig } from '../../oci/types.js';
import { assembleImage } from '../../exporter/image-assemble.js';
import { writeLayerBlob } from '../../exporter/layer-blob.js';
import { ArchiveSourceErrors } from '../../util/archive-source-errors.js';
import { tarDirectory } from '../../util/tar-directory.js';
import { openDecompressed } from '../decompress.js';
import { hostPlatform, parsePlatform } from '../../llb/platform.js';
import type { LLBPlatform } from '../../llb/types.js';
import { UserInputError } from '../../util/errors.js';

function platformOf(spec: string): LLBPlatform {
  try {
    return parsePlatform(spec);
  } catch (e) {
    throw new UserInputError('INVALID_PLATFORM', `--platform: ${(e as Error).message}`);
  }
}

export interface ImportOptions {
  /** A rootfs tarball (plain or compressed), a directory, or `-` for `input`. */
  readonly source: string;
  /** The tarball's bytes when `source` is `-` (the client's standard input). */
  readonly input?: AsyncIterable<Uint8Array>;
  readonly name: string;
  readonly message?: string;
  /** The platform the config records (`linux/arm64`); default the host's. */
  readonly platform?: string;
  readonly config?: Partial<ImageConfig['config']>;
  readonly signal: AbortSignal;
}

export async function importImage(storage: CacheStorage, opts: ImportOptions): Promise<ImageEntry> {
  const name = normalizeImageRef(opts.name);
  // Checked before the tarball is read: a typo must not cost a large import.
  const platform = opts.platform !== undefined ? platformOf(opts.platform) : hostPlatform();
  let tar: Readable;
  if (opts.source === '-') {
    if (!opts.input) throw ArchiveSourceErrors.importNoStdin();
    tar = await openDecompressed(Readable.from(opts.input), opts.signal);
  } else {
    let st;
    try {
      st = await stat(opts.source);
    } catch {
      throw ArchiveSourceErrors.importMissing(opts.source);
    }
    tar = st.isDirectory() ? tarDirectory(opts.source, opts.signal) : await openDecompressed(createReadStream(opts.source), opts.signal);
  }
  const writer = storage.content.writer({ signal: opts.signal });
  let layer;
  try {
    layer = await writeLayerBlob(tar, writer, { compression: 'gzip', signal: opts.signal });
    await writer.commit();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  const created = new Date().toISOString();
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { ...(opts.config ?? {}) },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [{ created, created_by: '', comment: opts.message ?? `Imported from ${opts.source}` }],
  };
  const img = assembleImage({ config, layers: [layer], flavour: 'oci', created });
  await storage.content.put(img.configBytes, { signal: opts.signal });
  await storage.content.put(img.manifestBytes, { signal: opts.signal });
  return storage.images.put({ name, manifestDigest: img.manifestDescriptor.digest, configDigest: img.configDescriptor.digest, mediaType: img.manifest.mediaType });
}
