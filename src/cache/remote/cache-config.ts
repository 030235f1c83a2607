/**
 * The cache metadata document: serialization and a strict parser. Everything read from a registry
 * or a directory is untrusted, so the parser checks every field, digest and index (parents point
 * strictly downwards, so chains are finite) before the importer follows it.
 */
import { createHash } from 'node:crypto';
import type { Descriptor } from '../../oci/types.js';
import type { RecordType } from '../../solver/cache-types.js';
import { TsbuildError } from '../../util/errors.js';
import {
  CACHE_FORMAT_VERSION, type CacheConfig, type CacheLayer, type CacheRecordEntry, type ChainLayer, type ImportedCache, type RemoteRecord,
} from './types.js';

/** sha256 of an empty tar (1024 zero bytes): the diff_id of a layer with no changes. */
export const EMPTY_LAYER_DIFF_ID = `sha256:${createHash('sha256').update(Buffer.alloc(1024)).digest('hex')}`;

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const RECORD_TYPES: ReadonlySet<string> = new Set<RecordType>([
  'regular', 'source.local', 'source.image', 'source.http', 'source.git', 'exec.cachemount', 'internal', 'frontend',
]);

/** A malformed cache document; `where` names the cache. */
export class CacheFormatError extends TsbuildError {
  constructor(where: string, why: string) {
    super('CACHE_MANIFEST_INVALID', `${where}: invalid cache metadata: ${why}`);
    this.name = 'CacheFormatError';
  }
}

/** The document's canonical bytes (what is hashed and pushed). */
export function serializeCacheConfig(c: CacheConfig): Buffer {
  return Buffer.from(JSON.stringify(c));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkDescriptor(v: unknown, where: string, field: string): Descriptor {
  if (!isObject(v)) throw new CacheFormatError(where, `${field} is not a descriptor`);
  if (typeof v['mediaType'] !== 'string' || v['mediaType'] === '') throw new CacheFormatError(where, `${field}.mediaType is missing`);
  if (typeof v['digest'] !== 'string' || !DIGEST_RE.test(v['digest'])) throw new CacheFormatError(where, `${field}.digest is not a sha256 digest`);
  if (typeof v['size'] !== 'number' || !Number.isSafeInteger(v['size']) || v['size'] < 0) throw new CacheFormatError(where, `${field}.size is not a byte count`);
  return { mediaType: v['mediaType'], digest: v['digest'], size: v['size'] };
}

/** Validates a parsed document (from JSON bytes or an image config field). */
export function checkCacheConfig(doc: unknown, where: string): CacheConfig {
  if (!isObject(doc)) throw new CacheFormatError(where, 'not a JSON object');
  if (doc['version'] !== CACHE_FORMAT_VERSION) throw new CacheFormatError(where, `unknown version ${JSON.stringify(doc['version'])} (expected ${CACHE_FORMAT_VERSION})`);
  const rawLayers = doc['layers'];
  const rawRecords = doc['records'];
  if (!Array.isArray(rawLayers)) throw new CacheFormatError(where, 'layers is not an array');
  if (!Array.isArray(rawRecords)) throw new CacheFormatError(where, 'records is not an array');
  const layers: CacheLayer[] = rawLayers.map((l: unknown, i): CacheLayer => {
    const f = `layers[${i}]`;
    if (!isObject(l)) throw new CacheFormatError(where, `${f} is not an object`);
    if (typeof l['diffId'] !== 'string' || !DIGEST_RE.test(l['diffId'])) throw new CacheFormatError(where, `${f}.diffId is not a sha256 digest`);
    const parent = l['parent'];
    // Parents point at earlier entries only: chains end, whatever the document says.
    if (typeof parent !== 'number' || !Number.isInteger(parent) || parent < -1 || parent >= i) throw new CacheFormatError(where, `${f}.parent must be -1 or the index of an earlier layer`);
    return { diffId: l['diffId'], parent, ...(l['blob'] !== undefined ? { blob: checkDescriptor(l['blob'], where, `${f}.blob`) } : {}) };
  });
  const records: CacheRecordEntry[] = rawRecords.map((r: unknown, i): CacheRecordEntry => {
    const f = `records[${i}]`;
    if (!isObject(r)) throw new CacheFormatError(where, `${f} is not an object`);
    if (typeof r['key'] !== 'string' || r['key'] === '') throw new CacheFormatError(where, `${f}.key is missing`);
    const output = r['output'];
    if (typeof output !== 'number' || !Number.isInteger(output) || output < 0) throw new CacheFormatError(where, `${f}.output is not an output index`);
    const layer = r['layer'];
    if (typeof layer !== 'number' || !Number.isInteger(layer) || layer < -1 || layer >= layers.length) throw new CacheFormatError(where, `${f}.layer is not -1 or a layer index`);
    const inputs = r['inputs'];
    if (!Array.isArray(inputs) || inputs.some((k) => typeof k !== 'string')) throw new CacheFormatError(where, `${f}.inputs is not a list of keys`);
    const rt = r['recordType'];
    return {
      key: r['key'],
      output,
      recordType: (typeof rt === 'string' && RECORD_TYPES.has(rt) ? rt : 'regular') as RecordType,
      description: typeof r['description'] === 'string' ? r['description'] : '',
      inputs: inputs as string[],
      layer,
    };
  });
  return { version: CACHE_FORMAT_VERSION, layers, records };
}

/** Parses and validates the document's bytes. */
export function parseCacheConfig(bytes: Buffer, where: string): CacheConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new CacheFormatError(where, `not JSON (${(e as Error).message})`);
  }
  return checkCacheConfig(doc, where);
}

/**
 * The chain of layer `top`, bottom first, with each blob resolved (inline cache finds blobs in the
 * image by diff_id); undefined when a non-empty layer has no blob to fetch.
 */
export function resolveChain(cache: ImportedCache, top: number): ChainLayer[] | undefined {
  const out: ChainLayer[] = [];
  for (let i = top; i >= 0; ) {
    const l = cache.config.layers[i] as CacheLayer;
    const blob = l.blob ?? cache.blobsByDiffId?.get(l.diffId);
    if (blob) out.push({ kind: 'blob', diffId: l.diffId, blob });
    else if (l.diffId === EMPTY_LAYER_DIFF_ID) out.push({ kind: 'empty', diffId: l.diffId });
    else return undefined;
    i = l.parent;
  }
  return out.reverse();
}

/** Every record of an imported cache whose chain can be rebuilt. */
export function remoteRecords(cache: ImportedCache): RemoteRecord[] {
  const out: RemoteRecord[] = [];
  for (const entry of cache.config.records) {
    const chain = entry.layer < 0 ? [] : resolveChain(cache, entry.layer);
    if (chain) out.push({ entry, chain, source: cache });
  }
  return out;
}
