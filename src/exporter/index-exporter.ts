/**
 * Outputs of a multi-platform build (`--platform linux/amd64,linux/arm64`): one result per
 * platform, exported together as buildx does.
 *
 * - `image`: each platform's image, then an OCI image index over them, stored under the names (the
 *   store row points at the index; its image ID is the first platform's config, as for a loaded
 *   OCI index, see load-oci.ts);
 * - `oci`: one archive whose index.json names the image index;
 * - `docker`: refused, as buildx refuses it (the docker archive has no manifest lists);
 * - `local`/`tar`: one folder per platform, named like buildx's (`linux_amd64/`, `linux_arm_v7/`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { putName, putUntagged } from '../cache/dangling-images.js';
import { normalizeImageRef } from '../oci/reference.js';
import { MediaType, type Descriptor, type ImageIndex, type Platform } from '../oci/types.js';
import { UserInputError } from '../util/errors.js';
import { stringifyJsonLikeGo } from '../util/utf8-lossless.js';
import { sha256, type AssembledImage } from './image-assemble.js';
import { buildImage, layerOptions } from './image-build.js';
import { annotationsFor, annotationsOf } from './annotations.js';
import { writeImageArchive } from './archive.js';
import { LocalDirExporter, tarDirectory } from './filesystem-exporter.js';
import type { ExportContext, ExportRequest, ExportResponse, LayerOptions, OutputSpec } from './types.js';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';

/** One platform's result: the request its single-platform export would get. */
export interface PlatformExport {
  /** `linux/arm64`, as the build was asked for it. */
  readonly platform: string;
  readonly req: ExportRequest;
}

/** Output types a multi-platform build can write; `docker` is refused with buildx's reason. */
export function checkMultiPlatformOutput(o: OutputSpec): void {
  if (o.type === 'docker') {
    throw new UserInputError(
      'MULTI_PLATFORM_DOCKER_OUTPUT',
      'docker exporter does not currently support exporting manifest lists: build one platform (--platform linux/amd64) or use -o type=oci or type=image',
    );
  }
  if (!['image', 'oci', 'local', 'tar'].includes(o.type)) {
    throw new UserInputError('MULTI_PLATFORM_OUTPUT', `output type=${o.type} cannot hold several platforms (use image, oci, local or tar)`);
  }
  // A typo in compression= fails before anything is built, as for one platform.
  if (o.type === 'image' || o.type === 'oci') layerOptions(o.attrs);
}

/** buildx's folder name of a platform in local/tar outputs: `linux/arm/v7` → `linux_arm_v7`. */
export function platformFolder(platform: string): string {
  return platform.replaceAll('/', '_');
}

/**
 * The index entry's platform: the one the result was built for (normalized `os/arch[/variant]`),
 * not the config's, which a base image imported without its platform may get wrong.
 */
function platformOf(platform: string): Platform {
  const [os = 'linux', architecture = '', variant] = platform.split('/');
  return { architecture, os, ...(variant ? { variant } : {}) };
}

export interface AssembledIndex {
  readonly images: readonly AssembledImage[];
  readonly index: ImageIndex;
  readonly bytes: Buffer;
  readonly descriptor: Descriptor;
}

/**
 * Builds each platform's image and the index over them; all of it lands in the content store.
 * `layers`: how the layers are stored — uncompressed for the local store (compressed when pushed,
 * as single-platform images are), the output's `compression=` options for an archive.
 */
export async function buildIndex(parts: readonly PlatformExport[], ctx: ExportContext, layers: LayerOptions, attrs: ReadonlyMap<string, string>): Promise<AssembledIndex> {
  const images: AssembledImage[] = [];
  // Each platform's manifest takes the output's annotations for it (buildImage reads the attributes).
  for (const p of parts) images.push(await buildImage({ ...p.req, attrs }, ctx, 'oci', layers));
  const list = annotationsOf(attrs);
  const annotations = annotationsFor(list, 'index');
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: images.map((img, i) => {
      const platform = (parts[i] as PlatformExport).platform;
      const descriptorAnnotations = annotationsFor(list, 'manifest-descriptor', platform);
      return { ...img.manifestDescriptor, mediaType: MediaType.ociManifest, platform: platformOf(platform), ...(descriptorAnnotations ? { annotations: descriptorAnnotations } : {}) };
    }),
    ...(annotations ? { annotations } : {}),
  };
  const bytes = Buffer.from(stringifyJsonLikeGo(index));
  await ctx.storage.content.put(bytes, { signal: ctx.signal });
  return { images, index, bytes, descriptor: { mediaType: MediaType.ociIndex, digest: sha256(bytes), size: bytes.length } };
}

function namesOf(parts: readonly PlatformExport[], attrs: ReadonlyMap<string, string>): string[] {
  const first = parts[0];
  return [...new Set([...(first?.req.names ?? []), ...(attrs.get('name')?.split(',').filter(Boolean).map(normalizeImageRef) ?? [])])];
}

async function toStore(parts: readonly PlatformExport[], attrs: ReadonlyMap<string, string>, ctx: ExportContext): Promise<ExportResponse> {
  const started = Date.now();
  layerOptions(attrs);
  const built = await buildIndex(parts, ctx, { compression: 'uncompressed' }, attrs);
  ctx.progress.status({ id: 'exporting layers', current: 0, started, completed: Date.now() });
  for (const img of built.images) ctx.progress.status({ id: `exporting manifest ${img.manifestDescriptor.digest}`, current: 0, completed: Date.now() });
  ctx.progress.status({ id: `exporting manifest list ${built.descriptor.digest}`, current: 0, completed: Date.now() });
  const names = namesOf(parts, attrs);
  const target = { manifestDigest: built.descriptor.digest, configDigest: (built.images[0] as AssembledImage).configDescriptor.digest, mediaType: MediaType.ociIndex };
  ctx.storage.db.write(() => {
    if (names.length === 0) putUntagged(ctx.storage.images, target);
    for (const name of names) putName(ctx.storage.images, name, target);
  });
  for (const name of names) ctx.progress.status({ id: `naming to ${name}`, current: 0, completed: Date.now() });
  return { imageDigest: built.descriptor.digest, ...(names.length ? { metadata: { 'image.name': names.join(',') } } : {}) };
}

async function toOciArchive(parts: readonly PlatformExport[], attrs: ReadonlyMap<string, string>, ctx: ExportContext): Promise<ExportResponse> {
  const dest = attrs.get('dest');
  if (!dest) throw new UserInputError('INVALID_OUTPUT', 'output type=oci needs dest=FILE (or dest=- for stdout)');
  const built = await buildIndex(parts, ctx, layerOptions(attrs), attrs);
  const names = namesOf(parts, attrs);
  const blobs: Array<readonly [Descriptor, Buffer]> = built.images.flatMap((img) => [[img.configDescriptor, img.configBytes], [img.manifestDescriptor, img.manifestBytes]] as const);
  const layers = built.images.flatMap((img) => img.manifest.layers);
  const out = await ctx.openOutput(dest);
  const descriptorAnnotations = annotationsFor(annotationsOf(attrs), 'index-descriptor');
  const roots = (names.length ? names : [undefined]).map((name) => ({ name, manifestDescriptor: built.descriptor, manifestBytes: built.bytes, layers, blobs, descriptorAnnotations }));
  const pass = new PassThrough();
  const epoch = parts[0]?.req.sourceDateEpoch;
  await Promise.all([
    pipeline(pass, out),
    writeImageArchive(pass, roots, (d) => ctx.storage.content.reader(d, { signal: ctx.signal }), {
      format: 'oci',
      signal: ctx.signal,
      ...(epoch !== undefined ? { mtime: epoch } : {}),
    }),
  ]);
  return { imageDigest: built.descriptor.digest };
}

async function toFolders(parts: readonly PlatformExport[], dest: string, ctx: ExportContext): Promise<void> {
  const local = new LocalDirExporter();
  for (const p of parts) {
    await local.export({ ...p.req, attrs: new Map([['dest', join(dest, platformFolder(p.platform))]]) }, ctx);
  }
}

async function toTar(parts: readonly PlatformExport[], attrs: ReadonlyMap<string, string>, ctx: ExportContext): Promise<void> {
  const dest = attrs.get('dest');
  if (!dest) throw new UserInputError('INVALID_OUTPUT', 'output type=tar needs dest=FILE (or dest=- for stdout)');
  const dir = await mkdtemp(join(ctx.tmpDir, 'multi-platform-tar-'));
  try {
    await toFolders(parts, dir, ctx);
    const epoch = parts[0]?.req.sourceDateEpoch;
    await tarDirectory(dir, await ctx.openOutput(dest), { sourceDateEpoch: epoch, signal: ctx.signal });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes one output of a multi-platform build. */
export async function exportPlatforms(out: OutputSpec, parts: readonly PlatformExport[], ctx: ExportContext): Promise<ExportResponse> {
  checkMultiPlatformOutput(out);
  switch (out.type) {
    case 'image':
      return toStore(parts, out.attrs, ctx);
    case 'oci':
      return toOciArchive(parts, out.attrs, ctx);
    case 'local': {
      const dest = out.attrs.get('dest');
      if (!dest) throw new UserInputError('INVALID_OUTPUT', 'output type=local needs dest=DIR');
      await toFolders(parts, dest, ctx);
      return {};
    }
    case 'tar':
      await toTar(parts, out.attrs, ctx);
      return {};
    default:
      throw new UserInputError('MULTI_PLATFORM_OUTPUT', `output type=${out.type} cannot hold several platforms`);
  }
}
