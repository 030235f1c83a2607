/**
 * Validates OCI documents against the image-spec JSON schemas in ../shared/anchors/oci-schema, plus
 * the type-specific checks upstream's Go validator adds (CONFORMANCE.md §2). Test-only: the schemas
 * are reference material and are never copied into the repo.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ajvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import { anchorsDir } from './paths.js';

export const schemaDir = join(anchorsDir, 'oci-schema', 'schema');

const base = 'https://opencontainers.org/schema';
const aliases: Record<string, string[]> = {
  'config-schema.json': [`${base}/image/config`],
  'content-descriptor.json': [`${base}/descriptor`, `${base}/image/content-descriptor.json`],
  'defs-descriptor.json': [`${base}/image/descriptor/mediaType`, `${base}/defs-descriptor.json`, `${base}/image/defs-descriptor.json`],
  'defs.json': [`${base}/defs.json`, `${base}/image/defs.json`, `${base}/image/descriptor/defs.json`],
  'image-index-schema.json': [`${base}/image/index`],
  'image-layout-schema.json': [`${base}/image/layout`],
  'image-manifest-schema.json': [`${base}/image/manifest`],
};

const byMediaType: Record<string, string> = {
  'application/vnd.oci.image.manifest.v1+json': `${base}/image/manifest`,
  'application/vnd.oci.image.index.v1+json': `${base}/image/index`,
  'application/vnd.oci.image.config.v1+json': `${base}/image/config`,
  'application/vnd.oci.descriptor.v1+json': `${base}/descriptor`,
  'application/vnd.oci.layout.header.v1+json': `${base}/image/layout`,
};

/** Removes nested `id` keywords so the registered aliases do the resolving. */
function stripIds(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripIds);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'id') out[k] = stripIds(x);
    return out;
  }
  return v;
}

// Both packages are CommonJS with a `default` export; under NodeNext the import is the module object.
const Ajv04 = ajvDraft04.default;
const addFormats = ajvFormats.default;
type Ajv = InstanceType<typeof Ajv04>;

let ajv: Ajv | undefined;
function getAjv(): Ajv {
  if (ajv) return ajv;
  const a = new Ajv04({ allErrors: true, strict: false, validateFormats: true });
  addFormats(a);
  for (const [file, urls] of Object.entries(aliases)) {
    const schema = stripIds(JSON.parse(readFileSync(join(schemaDir, file), 'utf8'))) as object;
    for (const url of urls) a.addSchema(schema, url);
  }
  ajv = a;
  return a;
}

const digestLengths: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

function checkDigest(d: unknown, where: string, errors: string[]): void {
  if (typeof d !== 'string') return;
  const m = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):(.*)$/.exec(d);
  if (!m) return;
  const len = digestLengths[m[1] as string];
  if (len !== undefined && !new RegExp(`^[a-f0-9]{${len}}$`).test(m[2] as string)) errors.push(`${where}: invalid ${m[1]} digest ${d}`);
}

function checkDescriptor(d: unknown, where: string, errors: string[]): void {
  if (!d || typeof d !== 'object') return;
  const desc = d as Record<string, unknown>;
  checkDigest(desc['digest'], where, errors);
  const data = desc['data'];
  if (typeof data === 'string' && !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(data)) {
    errors.push(`${where}: data is not padded standard base64`);
  }
}

function typeCheck(mediaType: string, doc: unknown, errors: string[]): void {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return;
  const o = doc as Record<string, unknown>;
  switch (mediaType) {
    case 'application/vnd.oci.descriptor.v1+json':
      checkDescriptor(o, 'descriptor', errors);
      break;
    case 'application/vnd.oci.image.config.v1+json': {
      const env = (o['config'] as Record<string, unknown> | undefined)?.['Env'];
      if (Array.isArray(env)) for (const e of env) if (typeof e !== 'string' || !/^[^=]+=.*$/.test(e)) errors.push(`config.Env entry ${JSON.stringify(e)} is not KEY=VALUE`);
      break;
    }
    case 'application/vnd.oci.image.manifest.v1+json':
      checkDescriptor(o['config'], 'config', errors);
      if (Array.isArray(o['layers'])) o['layers'].forEach((l, i) => checkDescriptor(l, `layers[${i}]`, errors));
      break;
    case 'application/vnd.oci.image.index.v1+json':
      if (Array.isArray(o['manifests'])) o['manifests'].forEach((l, i) => checkDescriptor(l, `manifests[${i}]`, errors));
      break;
    default:
      break;
  }
}

/** Returns the list of problems (empty = valid). `doc` may be raw text or parsed JSON. */
export function validateOci(mediaType: string, doc: string | Buffer | object): string[] {
  const id = byMediaType[mediaType];
  if (!id) return [`no schema for media type ${mediaType}`];
  let parsed: unknown = doc;
  if (typeof doc === 'string' || Buffer.isBuffer(doc)) {
    try {
      parsed = JSON.parse(doc.toString());
    } catch (e) {
      return [`not JSON: ${(e as Error).message}`];
    }
  }
  const validate = getAjv().getSchema(id);
  if (!validate) return [`schema ${id} not loaded`];
  const errors: string[] = [];
  if (!validate(parsed)) for (const e of validate.errors ?? []) errors.push(`${e.instancePath || '/'} ${e.message ?? ''}`);
  typeCheck(mediaType, parsed, errors);
  return errors;
}
