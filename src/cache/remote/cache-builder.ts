/**
 * Turns the records a build exports (each with the layers of its result's snapshot chain) into the
 * cache document: layers are shared between records by chain id (the OCI chain id of the diff_ids
 * below and including them), so a chain stored once serves every record that sits on it.
 */
import type { Descriptor } from '../../oci/types.js';
import type { RecordType } from '../../solver/cache-types.js';
import { EMPTY_LAYER_DIFF_ID } from './cache-config.js';
import { CACHE_FORMAT_VERSION, type CacheConfig, type CacheLayer, type CacheRecordEntry } from './types.js';
import { chainIds } from '../../oci/chain-id.js';

/** One layer of a chain being exported. */
export interface ExportLayer {
  readonly diffId: string;
  /** The blob; may be left out for inline cache (the image carries it) and for empty layers. */
  readonly blob?: Descriptor;
}

/** A record to export with its chain, bottom layer first ([] for an empty filesystem). */
export interface ExportRecord {
  readonly key: string;
  readonly output: number;
  readonly recordType: RecordType;
  readonly description: string;
  readonly inputs: readonly string[];
  readonly chain: readonly ExportLayer[];
}

export interface BuildCacheOptions {
  /** Leave blob descriptors out (inline cache: the importer finds them in the image). */
  readonly omitBlobs: boolean;
}

export interface BuiltCache {
  readonly config: CacheConfig;
  /** Every blob the document references, without duplicates (empty layers have none). */
  readonly blobs: readonly Descriptor[];
}

export function buildCacheConfig(records: readonly ExportRecord[], opts: BuildCacheOptions): BuiltCache {
  const layers: CacheLayer[] = [];
  const byChain = new Map<string, number>();
  const out: CacheRecordEntry[] = [];
  const seen = new Set<string>();
  const blobs = new Map<string, Descriptor>();
  for (const r of records) {
    const slot = `${r.key}\u0000${r.output}`;
    if (seen.has(slot)) continue;
    seen.add(slot);
    const ids = chainIds(r.chain.map((l) => l.diffId));
    let parent = -1;
    for (const [i, l] of r.chain.entries()) {
      const id = ids[i] as string;
      let at = byChain.get(id);
      if (at === undefined) {
        const blob = opts.omitBlobs || l.diffId === EMPTY_LAYER_DIFF_ID ? undefined : l.blob;
        if (blob) blobs.set(blob.digest, { mediaType: blob.mediaType, digest: blob.digest, size: blob.size });
        at = layers.length;
        layers.push({ diffId: l.diffId, parent, ...(blob ? { blob: { mediaType: blob.mediaType, digest: blob.digest, size: blob.size } } : {}) });
        byChain.set(id, at);
      }
      parent = at;
    }
    out.push({ key: r.key, output: r.output, recordType: r.recordType, description: r.description, inputs: [...r.inputs], layer: parent });
  }
  return { config: { version: CACHE_FORMAT_VERSION, layers, records: out }, blobs: [...blobs.values()] };
}
