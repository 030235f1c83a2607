/**
 * Builds the OCI image of a result (layers, config, manifest), stores the config and manifest in
 * the content store, and returns everything an output needs.
 */
import { assembleImage, type AssembledImage, type ManifestFlavour } from './image-assemble.js';
import { chainLayers } from './layers.js';
import type { ExportContext, ExportRequest, LayerOptions } from './types.js';
import { UserInputError } from '../util/errors.js';
import { allSettledOrFirstError } from '../util/parallel.js';
import { COMPRESSIONS, LEVELS, type Compression } from './layer-compress.js';
import { annotationsFor, checkedAnnotations } from './annotations.js';
import { formatPlatform } from '../llb/platform.js';

/**
 * The layer options of an output's attributes, as buildx has them: `compression=gzip|zstd|
 * uncompressed` (default gzip), `compression-level=N`, `force-compression=true|false`.
 */
export function layerOptions(attrs: ReadonlyMap<string, string>): LayerOptions {
  const c = attrs.get('compression') ?? 'gzip';
  if (!(COMPRESSIONS as readonly string[]).includes(c)) {
    throw new UserInputError('INVALID_OUTPUT', `unsupported compression "${c}" (use gzip, zstd or uncompressed)`);
  }
  const compression = c as Compression;
  const lv = attrs.get('compression-level');
  let level: number | undefined;
  if (lv !== undefined && compression !== 'uncompressed') {
    const [min, max] = LEVELS[compression];
    level = Number(lv);
    if (lv.trim() === '' || !Number.isInteger(level) || level < min || level > max) {
      throw new UserInputError('INVALID_OUTPUT', `invalid compression-level "${lv}" for ${compression} (${min}-${max})`);
    }
  }
  const f = attrs.get('force-compression');
  if (f !== undefined && f !== 'true' && f !== 'false') {
    throw new UserInputError('INVALID_OUTPUT', `invalid force-compression=${f}: expected true or false`);
  }
  return { compression, ...(level !== undefined ? { level } : {}), ...(f === 'true' ? { force: true } : {}) };
}

/** The platform an export request's image is for, as its config says (`os/arch[/variant]`). */
export function configPlatform(req: Pick<ExportRequest, 'config'>): string {
  const c = req.config;
  return formatPlatform({ os: c.os || 'linux', architecture: c.architecture || 'amd64', ...(c.variant ? { variant: c.variant } : {}) });
}

/**
 * The manifest annotations the output's attributes ask for (annotations.ts); a Docker manifest
 * (`type=docker`) has no place for them, so asking there is an error, as it would be lost.
 */
export function manifestAnnotations(req: Pick<ExportRequest, 'config' | 'attrs'>, flavour: ManifestFlavour): Record<string, string> | undefined {
  const list = checkedAnnotations(flavour === 'docker' ? 'docker' : 'oci', req.attrs);
  return list.length === 0 ? undefined : annotationsFor(list, 'manifest', configPlatform(req));
}

export function createdTime(sourceDateEpoch: number | undefined): string {
  return new Date(sourceDateEpoch !== undefined ? sourceDateEpoch * 1000 : Date.now()).toISOString();
}

/**
 * `layers`: how the layers are stored (default: as the output's attributes say). Returns once the
 * layers, the config and the manifest are all committed: only then may anything name the image.
 */
export async function buildImage(req: ExportRequest, ctx: ExportContext, flavour: ManifestFlavour, layers: LayerOptions = layerOptions(req.attrs)): Promise<AssembledImage> {
  const annotations = manifestAnnotations(req, flavour);
  const blobs = await chainLayers(req.snapshot, { ...layers, sourceDateEpoch: req.sourceDateEpoch }, ctx);
  const written = (async (): Promise<AssembledImage> => {
    // Without SOURCE_DATE_EPOCH the times come from the layers' snapshots (see image-assemble.ts).
    const created = req.sourceDateEpoch !== undefined ? createdTime(req.sourceDateEpoch) : undefined;
    const img = assembleImage({
      config: req.config,
      layers: blobs.layers,
      flavour,
      ...(created !== undefined ? { created, clampHistory: created } : {}),
      ...(annotations !== undefined ? { annotations } : {}),
    });
    // Two blobs, each fsynced with its directory: written side by side, and beside the commits of
    // layers still being made durable (a build's last one, made beside its last step: the export
    // used to wait for its fsync, rename and directory fsync before writing these).
    await Promise.all([ctx.storage.content.put(img.configBytes, { signal: ctx.signal }), ctx.storage.content.put(img.manifestBytes, { signal: ctx.signal })]);
    return img;
  })();
  await allSettledOrFirstError([blobs.done, written]);
  return written;
}
