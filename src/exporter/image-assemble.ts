/**
 * Assembles the image config and manifest from the frontend's config/history and the layer blobs.
 * Every filesystem step keeps its layer, also when it changed nothing (an empty tar: `RUN true`,
 * WORKDIR of an existing directory, COPY of an empty directory), with a non-empty history entry, as
 * Docker's BuildKit builds do: one layer per instruction. The config's diff_ids and the non-empty
 * history entries stay in step with the manifest's layers.
 *
 * Created times, as BuildKit's exporter sets them: a layer's history entry without a time takes the
 * time its snapshot was made (a cached step's snapshot is the one made when it first ran); entries
 * still without one (metadata steps) take the first new layer's time, else the last time known;
 * the config's `created` is the last history time. So a fully cached rebuild yields the same config,
 * hence the same image ID, and SOURCE_DATE_EPOCH pins every time.
 */
import { createHash } from 'node:crypto';
import type { Descriptor, HistoryEntry, ImageConfig, ImageManifest, Platform } from '../oci/types.js';
import { MediaType } from '../oci/types.js';
import { layerMediaType, type LayerBlobInfo } from './layer-blob.js';
import { stringifyJsonLikeGo } from '../util/utf8-lossless.js';

/** sha256 of an empty tar (1024 zero bytes): the diff_id of a layer with no changes. */
export const EMPTY_TAR_DIFF_ID = `sha256:${createHash('sha256').update(Buffer.alloc(1024)).digest('hex')}`;

export type ManifestFlavour = 'oci' | 'docker';

export interface AssembleInput {
  /** Config from the frontend: base image fields and history already merged in. */
  readonly config: ImageConfig;
  /** One entry per layer of the result, bottom first (base image layers included). */
  readonly layers: readonly LayerBlobInfo[];
  readonly flavour: ManifestFlavour;
  /**
   * Creation time (ISO 8601); with SOURCE_DATE_EPOCH the caller passes that instant. Absent: the
   * last history entry's time (see the header), now when no entry has one.
   */
  readonly created?: string;
  /** When set, history `created` times later than this are clamped to it (SOURCE_DATE_EPOCH). */
  readonly clampHistory?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface AssembledImage {
  readonly config: ImageConfig;
  readonly configBytes: Buffer;
  readonly configDescriptor: Descriptor;
  readonly manifest: ImageManifest;
  readonly manifestBytes: Buffer;
  readonly manifestDescriptor: Descriptor;
  /** The image's layers, in order (empty ones included). */
  readonly layers: readonly LayerBlobInfo[];
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Pairs layers with history: one non-empty history entry per layer, empty layers included. */
export function normalizeLayersAndHistory(layers: readonly LayerBlobInfo[], history: readonly HistoryEntry[]): { layers: LayerBlobInfo[]; history: HistoryEntry[] } {
  const keptLayers: LayerBlobInfo[] = [];
  const outHistory: HistoryEntry[] = [];
  let li = 0;
  for (const h of history) {
    if (h.empty_layer) {
      outHistory.push({ ...h });
      continue;
    }
    const layer = layers[li++];
    if (layer === undefined) {
      // More non-empty history entries than layers: the step produced nothing.
      outHistory.push({ ...h, empty_layer: true });
      continue;
    }
    keptLayers.push(layer);
    const kept = withoutEmptyFlag(h);
    outHistory.push(kept.created === undefined && layer.createdAt !== undefined ? { ...kept, created: layer.createdAt } : kept);
  }
  // Layers without history (e.g. an imported rootfs without history): add entries for them.
  for (; li < layers.length; li++) {
    const layer = layers[li] as LayerBlobInfo;
    if (layer.diffId === EMPTY_TAR_DIFF_ID) continue;
    keptLayers.push(layer);
    outHistory.push({ ...(layer.createdAt !== undefined ? { created: layer.createdAt } : {}), created_by: '', comment: 'layer without history' });
  }
  return { layers: keptLayers, history: outHistory };
}

function withoutEmptyFlag(h: HistoryEntry): HistoryEntry {
  const { empty_layer: _drop, ...rest } = h;
  return rest;
}

function clamp(created: string | undefined, max: string | undefined): string | undefined {
  if (created === undefined || max === undefined) return created;
  return Date.parse(created) > Date.parse(max) ? max : created;
}

/** BuildKit's time for entries without one: the first time after an entry lacking one, else the last. */
function fillTime(history: readonly HistoryEntry[]): string | undefined {
  let time: string | undefined;
  let gap = false;
  for (const h of history) {
    if (h.created !== undefined) {
      time = h.created;
      if (gap) break;
    } else {
      gap = true;
    }
  }
  return time;
}

export function assembleImage(input: AssembleInput): AssembledImage {
  const { layers, history: raw } = normalizeLayersAndHistory(input.layers, input.config.history ?? []);
  const fill = fillTime(raw) ?? input.created ?? new Date().toISOString();
  const history = raw.map((h) => ({ ...h, created: clamp(h.created ?? fill, input.clampHistory) as string }));
  const created = input.created ?? history[history.length - 1]?.created ?? fill;
  const config: ImageConfig = {
    ...input.config,
    created,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history,
  };
  const configBytes = Buffer.from(stringifyJsonLikeGo(orderConfig(config)));
  const configDescriptor: Descriptor = {
    mediaType: input.flavour === 'docker' ? MediaType.dockerConfig : MediaType.ociConfig,
    digest: sha256(configBytes),
    size: configBytes.length,
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: input.flavour === 'docker' ? MediaType.dockerManifest : MediaType.ociManifest,
    config: configDescriptor,
    layers: layers.map((l) => ({ mediaType: layerMediaType(l.compression, input.flavour), digest: l.digest, size: l.size })),
    ...(input.annotations && Object.keys(input.annotations).length ? { annotations: input.annotations } : {}),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const platform: Platform = {
    architecture: config.architecture,
    os: config.os,
    ...(config.variant ? { variant: config.variant } : {}),
  };
  return {
    config,
    configBytes,
    configDescriptor,
    manifest,
    manifestBytes,
    manifestDescriptor: { mediaType: manifest.mediaType, digest: sha256(manifestBytes), size: manifestBytes.length, platform },
    layers,
  };
}

/** Field order of Docker's/BuildKit's config JSON, so configs read naturally and diff cleanly. */
function orderConfig(c: ImageConfig): ImageConfig {
  const { created, author, architecture, os, variant, config, rootfs, history, ...rest } = c;
  return {
    ...(created !== undefined ? { created } : {}),
    ...(author !== undefined ? { author } : {}),
    architecture,
    os,
    ...(variant !== undefined ? { variant } : {}),
    config,
    rootfs,
    ...(history !== undefined ? { history } : {}),
    ...rest,
  };
}
