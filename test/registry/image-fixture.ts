/**
 * Builds small images (random layer bytes, a real config, an OCI or Docker manifest) and indexes
 * into a MemoryBlobSource, to push to a test registry. The registry never looks inside layers, so
 * random bytes are enough and make every test's blobs unique.
 */
import { randomBytes } from 'node:crypto';
import type { Descriptor, ImageConfig, Platform } from '../../src/oci/types.js';
import { MediaType } from '../../src/oci/types.js';
import { MemoryBlobSource } from '../../src/registry/memory-source.js';
import { sha256Digest } from '../../src/registry/digest.js';

export interface BuiltImage {
  readonly manifest: Descriptor;
  readonly manifestBytes: Buffer;
  readonly config: Descriptor;
  readonly configBytes: Buffer;
  readonly layers: readonly Descriptor[];
  readonly layerBytes: readonly Buffer[];
}

export interface BuildImageOptions {
  /** Layer contents, or sizes of random layers. Default one 4 KiB layer. */
  readonly layers?: readonly (Buffer | number)[];
  readonly platform?: Platform;
  readonly flavor?: 'oci' | 'docker';
}

function descriptor(mediaType: string, bytes: Buffer): Descriptor {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.length };
}

export function buildImage(src: MemoryBlobSource, opts: BuildImageOptions = {}): BuiltImage {
  const oci = (opts.flavor ?? 'oci') === 'oci';
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const layerBytes = (opts.layers ?? [4096]).map((l) => (typeof l === 'number' ? randomBytes(l) : l));
  const layers = layerBytes.map((b) => descriptor(oci ? MediaType.ociLayerGzip : MediaType.dockerLayerGzip, b));
  const cfg: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  };
  const configBytes = Buffer.from(JSON.stringify(cfg));
  const config = descriptor(oci ? MediaType.ociConfig : MediaType.dockerConfig, configBytes);
  const mt = oci ? MediaType.ociManifest : MediaType.dockerManifest;
  const manifestBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mt, config, layers }));
  const manifest = descriptor(mt, manifestBytes);
  for (const b of [...layerBytes, configBytes, manifestBytes]) src.add(b);
  return { manifest, manifestBytes, config, configBytes, layers, layerBytes };
}

export interface BuiltIndex {
  readonly index: Descriptor;
  readonly indexBytes: Buffer;
}

export function buildIndex(src: MemoryBlobSource, images: readonly { readonly image: BuiltImage; readonly platform: Platform }[], flavor: 'oci' | 'docker' = 'oci'): BuiltIndex {
  const mt = flavor === 'oci' ? MediaType.ociIndex : MediaType.dockerManifestList;
  const manifests = images.map(({ image, platform }) => ({ ...image.manifest, platform }));
  const indexBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mt, manifests }));
  src.add(indexBytes);
  return { index: descriptor(mt, indexBytes), indexBytes };
}
