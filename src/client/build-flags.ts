/**
 * Build flags whose syntax is docker buildx's, parsed on the client into contract data:
 * `--output` (`type=oci,dest=out.tar`, `-`, `DIR`) and `--cache-to` / `--cache-from`
 * (`type=registry,ref=host/repo:cache,mode=max`; a `--cache-from` value without `=` is a registry
 * reference). A registry or local cache export takes buildx's layer compression attributes
 * (checked by the engine, as `-o`'s are); attributes BuildKit knows but tsbuild does not need (media
 * type switches) are accepted and ignored, so CI command lines carry over. `--add-host HOST:IP` (or
 * `HOST=IP`) entries are checked here, before anything starts. Secrets and SSH: secrets.ts.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError, UserInputError } from '../util/errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import { contextValueKind } from '../util/build-context-value.js';
import { extraHostProblem, splitExtraHost } from '../util/extra-host.js';
import { parseUlimit } from '../util/ulimit.js';
import type { UlimitEntry } from '../util/ulimit.js';
import type { CacheExportSpec, CacheImportSpec, CacheMode, ExtraHost, OutputSpec } from './build-types.js';

/** Parses one `--output` value: `type=oci,dest=out.tar`, `-` (tar to stdout), `DIR` (a local directory). */
export function parseOutputSpec(spec: string): OutputSpec {
  if (spec === '-') return { type: 'tar', attrs: { dest: '-' } };
  if (!spec.includes('=')) return { type: 'local', attrs: { dest: spec } };
  const attrs = new Map<string, string>();
  for (const part of splitCsv(spec)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UserInputError('INVALID_OUTPUT', `invalid output "${spec}": "${part}" is not key=value`);
    attrs.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
  }
  const type = attrs.get('type');
  if (!type) throw new UserInputError('INVALID_OUTPUT', `invalid output "${spec}": type= is required`);
  attrs.delete('type');
  return { type, attrs: Object.fromEntries(attrs) };
}

/** Splits on commas outside double quotes (buildx uses CSV). */
function splitCsv(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') {
      quoted = !quoted;
      continue;
    }
    if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (quoted) throw new UserInputError('INVALID_OUTPUT', `invalid output "${s}": unterminated quote`);
  out.push(cur);
  return out.filter((p) => p.trim() !== '');
}

/** BuildKit attributes that change nothing here (tsbuild always writes OCI media types). */
const IGNORED = ['oci-mediatypes', 'image-manifest', 'store', 'name'];

/** Layer compression attributes of a registry or local cache export (an inline cache ignores them). */
const COMPRESSION_KEYS = ['compression', 'compression-level', 'force-compression'];

function fail(flag: string, spec: string, why: string): UserInputError {
  return new UserInputError('INVALID_CACHE_SPEC', `invalid --${flag} "${spec}": ${why}`);
}

function splitPairs(flag: string, spec: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of spec.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw fail(flag, spec, `"${part}" is not key=value`);
    const k = part.slice(0, eq).trim().toLowerCase();
    if (out.has(k)) throw fail(flag, spec, `${k} is given twice`);
    out.set(k, part.slice(eq + 1).trim());
  }
  return out;
}

function checkKeys(flag: string, spec: string, attrs: ReadonlyMap<string, string>, allowed: readonly string[], ignored: readonly string[] = IGNORED): void {
  for (const k of attrs.keys()) {
    if (k === 'type' || allowed.includes(k) || ignored.includes(k)) continue;
    throw fail(flag, spec, `unknown attribute "${k}"${didYouMean(k, allowed)}; supported: ${allowed.join(', ')}`);
  }
}

function required(flag: string, spec: string, attrs: ReadonlyMap<string, string>, key: string): string {
  const v = attrs.get(key);
  if (v === undefined || v === '') throw fail(flag, spec, `${key}= is required for type=${attrs.get('type') ?? ''}`);
  return v;
}

function mode(flag: string, spec: string, attrs: ReadonlyMap<string, string>): CacheMode {
  const m = attrs.get('mode') ?? 'min';
  if (m !== 'min' && m !== 'max') throw fail(flag, spec, `mode must be min or max, not "${m}"`);
  return m;
}

function bool(flag: string, spec: string, attrs: ReadonlyMap<string, string>, key: string): boolean {
  const v = attrs.get(key);
  if (v === undefined) return false;
  if (v === 'true' || v === '') return true;
  if (v === 'false') return false;
  throw fail(flag, spec, `${key} must be true or false, not "${v}"`);
}

/** The compression attributes given, as the spec carries them (their values are the engine's to check). */
function compressionAttrs(flag: string, spec: string, attrs: ReadonlyMap<string, string>): { compression?: string; compressionLevel?: string; forceCompression?: boolean } {
  const c = attrs.get('compression');
  const level = attrs.get('compression-level');
  return {
    ...(c !== undefined ? { compression: c } : {}),
    ...(level !== undefined ? { compressionLevel: level } : {}),
    ...(attrs.has('force-compression') ? { forceCompression: bool(flag, spec, attrs, 'force-compression') } : {}),
  };
}

/** Parses one `--cache-to` value. Throws INVALID_CACHE_SPEC. */
export function parseCacheExportSpec(spec: string): CacheExportSpec {
  const flag = 'cache-to';
  const attrs = splitPairs(flag, spec);
  const type = attrs.get('type');
  switch (type) {
    case 'registry':
      checkKeys(flag, spec, attrs, ['ref', 'mode', 'ignore-error', ...COMPRESSION_KEYS]);
      return {
        kind: 'registry',
        ref: required(flag, spec, attrs, 'ref'),
        mode: mode(flag, spec, attrs),
        ignoreError: bool(flag, spec, attrs, 'ignore-error'),
        ...compressionAttrs(flag, spec, attrs),
      };
    case 'local':
      checkKeys(flag, spec, attrs, ['dest', 'mode', 'tag', 'ignore-error', ...COMPRESSION_KEYS]);
      return {
        kind: 'local',
        dest: required(flag, spec, attrs, 'dest'),
        mode: mode(flag, spec, attrs),
        tag: attrs.get('tag') || 'latest',
        ignoreError: bool(flag, spec, attrs, 'ignore-error'),
        ...compressionAttrs(flag, spec, attrs),
      };
    case 'inline':
      checkKeys(flag, spec, attrs, ['mode'], [...IGNORED, ...COMPRESSION_KEYS]);
      if (mode(flag, spec, attrs) !== 'min') throw fail(flag, spec, 'inline cache supports mode=min only');
      return { kind: 'inline' };
    case undefined:
      throw fail(flag, spec, 'type= is required (registry, local or inline)');
    default:
      throw fail(flag, spec, `unsupported type "${type}"${didYouMean(type, ['registry', 'local', 'inline'])} (registry, local or inline)`);
  }
}

/** Parses one `--cache-from` value (a bare reference means type=registry). Throws INVALID_CACHE_SPEC. */
export function parseCacheImportSpec(spec: string): CacheImportSpec {
  const flag = 'cache-from';
  if (!spec.includes('=')) {
    if (spec.trim() === '') throw fail(flag, spec, 'empty value');
    return { kind: 'registry', ref: spec.trim() };
  }
  const attrs = splitPairs(flag, spec);
  const type = attrs.get('type');
  switch (type) {
    case 'registry':
      checkKeys(flag, spec, attrs, ['ref']);
      return { kind: 'registry', ref: required(flag, spec, attrs, 'ref') };
    case 'local': {
      checkKeys(flag, spec, attrs, ['src', 'tag', 'digest']);
      const digest = attrs.get('digest');
      if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) throw fail(flag, spec, `digest "${digest}" is not a sha256 digest`);
      return { kind: 'local', src: required(flag, spec, attrs, 'src'), tag: attrs.get('tag') || 'latest', ...(digest !== undefined ? { digest } : {}) };
    }
    case undefined:
      throw fail(flag, spec, 'type= is required (registry or local)');
    default:
      throw fail(flag, spec, `unsupported type "${type}"${didYouMean(type, ['registry', 'local'])} (registry or local)`);
  }
}

/** What a build may ask for beyond the default sandbox (`--allow`, tsbuildd's --allow-insecure-entitlement). */
export const ENTITLEMENTS = ['network.host', 'security.insecure'] as const;
export type Entitlement = (typeof ENTITLEMENTS)[number];

/** The entitlement names given to `flag`; a usage error (after `prefix`) names any other. */
export function parseEntitlements(values: readonly string[], flag: string, prefix = ''): Entitlement[] {
  for (const e of values) {
    if (!(ENTITLEMENTS as readonly string[]).includes(e)) throw new UsageError(`${prefix}unknown entitlement "${e}" for ${flag} (supported: ${ENTITLEMENTS.join(', ')})`);
  }
  return values as Entitlement[];
}

/**
 * Parses `--add-host` values (`HOST:IP`, `HOST=IP`, `HOST:[IPv6]`), in order; a usage error (after
 * `prefix`) names a bad one.
 */
export function parseAddHosts(values: readonly string[], prefix = ''): ExtraHost[] {
  return values.map((v) => {
    const e = splitExtraHost(v);
    if (e === undefined) throw new UsageError(`${prefix}invalid --add-host "${v}": expected HOST:IP`);
    const why = extraHostProblem(e);
    if (why !== undefined) throw new UsageError(`${prefix}invalid --add-host "${v}": ${why}`);
    return e;
  });
}

/**
 * Parses `--build-context NAME=VALUE` values (buildx's named contexts): `docker-image://REF`, a Git
 * or HTTP(S) URL, or a directory, relative to `cwd` (sent as its absolute path; it must exist).
 * `oci-layout://`, `target:` (bake) and other schemes are refused; a name given twice too.
 */
export function parseBuildContexts(values: readonly string[], cwd: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const bad = (why: string): UsageError => new UsageError(`${prefix}invalid --build-context "${v}": ${why}`);
    if (eq <= 0 || eq === v.length - 1) throw bad('expected NAME=VALUE');
    const name = v.slice(0, eq);
    const value = v.slice(eq + 1);
    if (Object.hasOwn(out, name)) throw bad(`${name} is given twice`);
    const kind = contextValueKind(value);
    if (kind === 'image' || kind === 'url') {
      out[name] = value;
      continue;
    }
    if (kind === 'unsupported') throw bad('only docker-image://REF, a Git or HTTP(S) URL or a directory is supported');
    const dir = resolve(cwd, value);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      throw bad(`${dir}: no such directory`);
    }
    if (!isDir) throw bad(`${dir} is not a directory`);
    out[name] = dir;
  }
  return out;
}

/** Parses `--ulimit NAME=SOFT[:HARD]` values, in order; a usage error (after `prefix`) names a bad one. */
export function parseUlimits(values: readonly string[], prefix = ''): UlimitEntry[] {
  return values.map((v) => {
    const u = parseUlimit(v);
    if (typeof u === 'string') throw new UsageError(`${prefix}invalid --ulimit "${v}": ${u}`);
    return u;
  });
}

const FALSE = new Set(['false', '0', 'f', 'F', 'FALSE', 'False']);

/** Whether a `--provenance` / `--sbom` / `--attest` value turns its attestation off. */
function attestationOff(value: string, bare: boolean): boolean {
  if (bare) return FALSE.has(value);
  return splitCsv(value).some((p) => p.trim().toLowerCase() === 'disabled=true');
}

/**
 * buildx's attestation flags, where tsbuild makes no attestation: the forms that turn one off
 * (`--provenance=false`, `--sbom=false`, `--attest type=provenance,disabled=true`) are accepted so
 * that CI command lines carry over; any that asks for one is a usage error (after `prefix`).
 */
export function checkAttestationFlags(flags: { readonly provenance: readonly string[]; readonly sbom: readonly string[]; readonly attest: readonly string[] }, prefix = ''): void {
  const refuse = (flag: string, v: string): UsageError => new UsageError(
    `${prefix}${flag}${v === '' ? '' : `=${v}`}: tsbuild attaches no attestations (provenance, SBOM); only turning them off is accepted (--provenance=false, --sbom=false, --attest type=…,disabled=true)`,
  );
  for (const [flag, values] of [['--provenance', flags.provenance], ['--sbom', flags.sbom]] as const) {
    for (const v of values) {
      const bare = !v.includes('=');
      if (v === '' || !attestationOff(v, bare)) throw refuse(flag, v);
    }
  }
  for (const v of flags.attest) {
    const type = splitCsv(v).find((p) => p.trim().toLowerCase().startsWith('type='))?.trim().slice(5).toLowerCase();
    if (type !== 'provenance' && type !== 'sbom') throw new UsageError(`${prefix}invalid --attest "${v}": type=provenance or type=sbom is required`);
    if (!attestationOff(v, false)) throw refuse('--attest', v);
  }
}

const ANNOTATION_TYPES = ['manifest', 'index', 'manifest-descriptor', 'index-descriptor'];
const ANNOTATION_PREFIX = /^([a-z,-]+)(?:\[([^\]]*)\])?:(.+)$/;

/**
 * buildx's `--annotation` values as output attributes (the engine's exporters read those):
 * `KEY=VALUE` (the manifest), or `TYPE[,TYPE…][\[PLATFORM\]]:KEY=VALUE` with TYPE manifest, index,
 * manifest-descriptor or index-descriptor. A usage error (after `prefix`) names a bad one.
 */
export function parseAnnotations(values: readonly string[], prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const bad = (why: string): UsageError => new UsageError(`${prefix}invalid --annotation "${v}": ${why}`);
    if (eq <= 0) throw bad('expected KEY=VALUE or TYPE:KEY=VALUE');
    const spec = v.slice(0, eq);
    const value = v.slice(eq + 1);
    const m = ANNOTATION_PREFIX.exec(spec);
    if (!m) {
      if (spec.includes(':')) throw bad(`unknown annotation type (${ANNOTATION_TYPES.join(', ')})`);
      out[`annotation.${spec}`] = value;
      continue;
    }
    const types = (m[1] as string).split(',');
    const unknown = types.find((t) => !ANNOTATION_TYPES.includes(t));
    if (unknown !== undefined) throw bad(`unknown annotation type "${unknown}" (${ANNOTATION_TYPES.join(', ')})`);
    for (const t of types) out[`annotation-${t}${m[2] !== undefined ? `[${m[2]}]` : ''}.${m[3] as string}`] = value;
  }
  return out;
}
