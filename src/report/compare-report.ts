/**
 * Assembles the data of `tsbuild compare` (CompareReport) from what the builds left: each build's
 * history record (PastBuild, through the client contract, so embedded and tsbuildd agree) and the
 * blobs of the image it exported (digests and compressed sizes, read from its OCI archive by the
 * command). Per-build numbers come from buildReport (hit ratio, layer sizes, wasted bytes, miss
 * reasons), so `report` and `compare` never count differently. Pure: no store, no files.
 */
import type { PastBuild } from '../client/types.js';
import { TsbuildError } from '../util/errors.js';
import { buildReport } from './build-report.js';
import type { CompareLayer, CompareRebuild, CompareReport, CompareRun, CompareScenario, CompareVariant } from './compare-types.js';

/** A blob of an image as its manifest lists it. */
export interface ImageBlob {
  readonly digest: string;
  readonly size: number;
}

/** What one exported image is made of: its manifest's config and layers, and its config's history. */
export interface ImageBlobs {
  readonly config: ImageBlob;
  /** Bottom first. */
  readonly layers: readonly ImageBlob[];
  /** The config's history entries, oldest first (`created_by`, `empty_layer`, `comment`). */
  readonly history: readonly { readonly createdBy: string; readonly emptyLayer: boolean; readonly comment: string }[];
}

/** One finished build of a variant. */
export interface CompareBuild {
  readonly past: PastBuild;
  readonly image: ImageBlobs;
}

export interface CompareVariantInput {
  readonly name: string;
  readonly dockerfile: string;
  readonly cold: CompareBuild;
  /** One per scenario, in scenario order. */
  readonly rebuilds: readonly CompareBuild[];
  /** Every build the variant's store's history holds (for cold durations of cached steps). */
  readonly history: readonly PastBuild[];
}

export interface CompareInput {
  readonly context: string;
  readonly created: string;
  readonly scenarios: readonly CompareScenario[];
  readonly variants: readonly CompareVariantInput[];
}

export function compareReport(input: CompareInput): CompareReport {
  return {
    schemaVersion: 1,
    context: input.context,
    created: input.created,
    scenarios: input.scenarios,
    variants: input.variants.map((v) => variantOf(v, input)),
  };
}

function variantOf(v: CompareVariantInput, input: CompareInput): CompareVariant {
  if (v.rebuilds.length !== input.scenarios.length) throw new TsbuildError('COMPARE_INCOMPLETE', `variant ${v.name}: ${v.rebuilds.length} rebuilds for ${input.scenarios.length} scenarios`);
  const layers = layersOf(v.cold, v.name);
  const previous = blobSet(v.cold.image);
  return {
    name: v.name,
    dockerfile: v.dockerfile,
    cold: runOf(v.cold.past, v.history),
    layers,
    imageSize: layers.reduce((n, l) => n + l.compressedSize, 0),
    uncompressedSize: layers.reduce((n, l) => n + l.size, 0),
    wastedBytes: layers.reduce((n, l) => n + l.wastedBytes, 0),
    rebuilds: v.rebuilds.map((b, i): CompareRebuild => {
      const shipped = newBlobBytes(b.image, previous);
      return {
        scenario: input.scenarios[i]?.id ?? '',
        run: runOf(b.past, v.history),
        pushBytes: shipped,
        pullBytes: shipped,
        missReasons: buildReport(b.past, v.history).missReasons,
      };
    }),
  };
}

function runOf(past: PastBuild, history: readonly PastBuild[]): CompareRun {
  const r = buildReport(past, history);
  return { durationMs: r.durationMs ?? 0, stepsTotal: r.stepsTotal, stepsCached: r.stepsCached, stepsExecuted: r.stepsExecuted, hitRatio: r.hitRatio.ratio };
}

/** The image's layers with the history's measurements (uncompressed, wasted) beside the blob sizes. */
function layersOf(b: CompareBuild, variant: string): CompareLayer[] {
  const measured = buildReport(b.past, []).layers;
  if (measured === null || measured.length !== b.image.layers.length) {
    throw new TsbuildError('COMPARE_NO_LAYERS', `variant ${variant}: the build history has ${measured?.length ?? 'no'} layers for an image of ${b.image.layers.length}`);
  }
  const instructions = layerInstructions(b);
  return b.image.layers.map((blob, i): CompareLayer => ({
    instruction: instructions[i] ?? '',
    size: measured[i]?.size ?? 0,
    compressedSize: blob.size,
    wastedBytes: measured[i]?.wastedBytes ?? 0,
  }));
}

/** Dockerfile history entries say what made each layer; the base image's layers are `FROM IMAGE`. */
function layerInstructions(b: CompareBuild): string[] {
  const entries = b.image.history.filter((h) => !h.emptyLayer);
  const last = b.past.steps.at(-1)?.stage;
  const from = b.past.steps.filter((s) => s.stage === last && /^FROM\s/i.test(s.instruction)).at(-1)?.instruction.split(/\s+/).slice(0, 2).join(' ') ?? 'FROM';
  if (entries.length !== b.image.layers.length) return b.image.layers.map(() => from);
  return entries.map((h) => (h.comment === 'buildkit.dockerfile.v0' ? fromCreatedBy(h.createdBy) : from));
}

/** `RUN /bin/sh -c make # buildkit` → `RUN make`, as the Dockerfile says it. */
function fromCreatedBy(createdBy: string): string {
  return createdBy.replace(/ # buildkit$/, '').replace(/^RUN \/bin\/sh -c /, 'RUN ');
}

function blobSet(image: ImageBlobs): ReadonlySet<string> {
  return new Set([image.config.digest, ...image.layers.map((l) => l.digest)]);
}

/** Bytes of the image's blobs (config and layers, each once) that `have` lacks. */
function newBlobBytes(image: ImageBlobs, have: ReadonlySet<string>): number {
  const seen = new Set<string>();
  let n = 0;
  for (const b of [image.config, ...image.layers]) {
    if (have.has(b.digest) || seen.has(b.digest)) continue;
    seen.add(b.digest);
    n += b.size;
  }
  return n;
}
