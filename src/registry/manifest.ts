/**
 * Manifest documents as they come off the wire: which media types tsbuild asks for, and parsing
 * the bytes into an image manifest or an index with the checks a client needs before trusting
 * the descriptors inside (digests well-formed, sizes non-negative integers).
 */
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.js';
import { MediaType } from '../oci/types.js';
import { isValidDigest } from '../oci/digest.js';
import { RegistryError } from './errors.js';

/** Index media types, in Accept-header preference order. */
export const INDEX_MEDIA_TYPES: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList];
/** Single-image manifest media types. */
export const IMAGE_MEDIA_TYPES: readonly string[] = [MediaType.ociManifest, MediaType.dockerManifest];
const SCHEMA1_MEDIA_TYPES: readonly string[] = [
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
];

/** The Accept header of a manifest request: every type tsbuild understands. */
export const MANIFEST_ACCEPT = [...INDEX_MEDIA_TYPES, ...IMAGE_MEDIA_TYPES].join(', ');

/** Upper bound on a manifest body; registries refuse bigger ones (Distribution: 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export type ParsedManifest =
  | { readonly kind: 'index'; readonly mediaType: string; readonly index: ImageIndex }
  | { readonly kind: 'image'; readonly mediaType: string; readonly manifest: ImageManifest };

export function isIndexMediaType(mt: string): boolean {
  return INDEX_MEDIA_TYPES.includes(mt);
}

function invalid(where: string, why: string): RegistryError {
  return new RegistryError('MANIFEST_INVALID', `${where}: malformed manifest: ${why}`);
}

function checkDescriptor(v: unknown, where: string, field: string): Descriptor {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid(where, `${field} is not a descriptor object`);
  const d = v as Record<string, unknown>;
  if (typeof d['mediaType'] !== 'string' || d['mediaType'] === '') throw invalid(where, `${field}.mediaType is missing`);
  if (typeof d['digest'] !== 'string' || !isValidDigest(d['digest'])) throw invalid(where, `${field}.digest ${JSON.stringify(d['digest'])} is not a valid digest`);
  if (typeof d['size'] !== 'number' || !Number.isSafeInteger(d['size']) || d['size'] < 0) {
    throw invalid(where, `${field}.size ${JSON.stringify(d['size'])} is not a non-negative integer`);
  }
  return v as Descriptor;
}

/**
 * Parses manifest bytes. `headerMediaType` is the response's Content-Type, used when the document
 * has no `mediaType` of its own (allowed for OCI). `where` names the reference in errors.
 */
export function parseManifest(bytes: Buffer, headerMediaType: string | undefined, where: string): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new RegistryError('MANIFEST_INVALID', `${where}: malformed manifest: not JSON (${(e as Error).message})`, { cause: e });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw invalid(where, 'not a JSON object');
  const o = doc as Record<string, unknown>;
  const header = headerMediaType?.split(';')[0]?.trim();
  const declared = typeof o['mediaType'] === 'string' ? o['mediaType'] : undefined;
  if (o['schemaVersion'] === 1 || SCHEMA1_MEDIA_TYPES.includes(declared ?? header ?? '')) {
    throw new RegistryError('MANIFEST_UNSUPPORTED', `${where}: Docker schema 1 manifests are not supported; push the image again with a current client`);
  }
  if (o['schemaVersion'] !== 2) throw invalid(where, `schemaVersion ${JSON.stringify(o['schemaVersion'])} is not 2`);
  // Without a declared type, the shape decides (an OCI index has `manifests`, a manifest `layers`).
  let mediaType = declared ?? (header && header !== 'application/json' && header !== 'application/octet-stream' ? header : undefined);
  mediaType ??= Array.isArray(o['manifests']) ? MediaType.ociIndex : MediaType.ociManifest;
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(o['manifests'])) throw invalid(where, 'index has no manifests array');
    o['manifests'].forEach((m, i) => checkDescriptor(m, where, `manifests[${i}]`));
    return { kind: 'index', mediaType, index: doc as ImageIndex };
  }
  if (IMAGE_MEDIA_TYPES.includes(mediaType)) {
    checkDescriptor(o['config'], where, 'config');
    if (!Array.isArray(o['layers'])) throw invalid(where, 'manifest has no layers array');
    o['layers'].forEach((l, i) => checkDescriptor(l, where, `layers[${i}]`));
    return { kind: 'image', mediaType, manifest: doc as ImageManifest };
  }
  throw new RegistryError('MANIFEST_UNSUPPORTED', `${where}: unsupported manifest media type ${JSON.stringify(mediaType)}`);
}
