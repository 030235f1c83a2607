/**
 * Builds the OCI image of a result (layers, config, manifest), stores the config and manifest in
 * the content store, and returns everything an output needs.
 */
import { assembleImage, type AssembledImage, type ManifestFlavour } from './image-assemble.js';
import { chainLayers } from './layers.js';
import type { ExportContext, ExportRequest, LayerOptions } from './types.js';
import { UserInputError } from '../util/errors.js';
import type { Compression } from './layer-blob.js';

export function layerOptions(attrs: ReadonlyMap<string, string>): LayerOptions {
  const c = attrs.get('compression') ?? 'gzip';
  if (c !== 'gzip' && c !== 'uncompressed') {
    throw new UserInputError('INVALID_OUTPUT', `unsupported compression "${c}" (use gzip or uncompressed)`);
  }
  const lv = attrs.get('compression-level');
  let level: number | undefined;
  if (lv !== undefined) {
    level = Number(lv);
    if (!Number.isInteger(level) || level < 0 || level > 9) throw new UserInputError('INVALID_OUTPUT', `invalid compression-level "${lv}" (0-9)`);
  }
  return { compression: c as Compression, ...(level !== undefined ? { level } : {}) };
}

export function createdTime(sourceDateEpoch: number | undefined): string {
  return new Date(sourceDateEpoch !== undefined ? sourceDateEpoch * 1000 : Date.now()).toISOString();
}

export async function buildImage(req: ExportRequest, ctx: ExportContext, flavour: ManifestFlavour): Promise<AssembledImage> {
  const layers = await chainLayers(req.snapshot, { ...layerOptions(req.attrs), sourceDateEpoch: req.sourceDateEpoch }, ctx);
  // Without SOURCE_DATE_EPOCH the times come from the layers' snapshots (see image-assemble.ts).
  const created = req.sourceDateEpoch !== undefined ? createdTime(req.sourceDateEpoch) : undefined;
  const img = assembleImage({
    config: req.config,
    layers,
    flavour,
    ...(created !== undefined ? { created, clampHistory: created } : {}),
  });
  await ctx.storage.content.put(img.configBytes, { signal: ctx.signal });
  await ctx.storage.content.put(img.manifestBytes, { signal: ctx.signal });
  return img;
}
