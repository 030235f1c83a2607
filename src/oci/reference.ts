/**
 * Image references, the one parser every layer uses (the frontend's FROM, the image store, the
 * distribution client, the command line). A pure leaf: no I/O, no other layer's code.
 *
 * Parsed exactly as Docker parses them (distribution/reference): the raw grammar
 * (`parseReferenceRaw`, Go's `reference.Parse`) and the normalized form every command uses
 * (`parseReference`, Go's `ParseNormalizedNamed`): `alpine` → `docker.io/library/alpine`,
 * `index.docker.io/x` → `docker.io/x`. A first path component is a registry host when it contains
 * `.` or `:`, is `localhost`, or has upper-case letters (repository paths never do).
 */
import { UserInputError } from '../util/errors.js';
import { validateDigest, DigestError } from './digest.js';

/** A normalized image reference: always has a domain; tag and digest optional. */
export interface Reference {
  /** Registry `host[:port]`, e.g. `docker.io`, `127.0.0.1:5000`, `[::1]:5000`. */
  readonly domain: string;
  /** Repository path inside the registry, e.g. `library/alpine`. */
  readonly path: string;
  readonly tag?: string;
  /** `algorithm:hex`. */
  readonly digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const DEFAULT_TAG = 'latest';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

/** A reference as the raw grammar sees it; `domain` is '' when the name has none. */
export interface RawReference {
  readonly domain: string;
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

export type ReferenceErrorReason =
  | 'empty'
  | 'format'
  | 'uppercase'
  | 'too-long'
  | 'hex-identifier'
  | 'digest-format'
  | 'digest-unsupported'
  | 'digest-length';

/** Malformed reference; `reason` says which rule it broke. Code INVALID_REFERENCE. */
export class InvalidReferenceError extends UserInputError {
  readonly reason: ReferenceErrorReason;
  readonly input: string;
  /** The message without the input, e.g. `invalid reference format: repository name must be lowercase`. */
  readonly why: string;

  constructor(input: string, reason: ReferenceErrorReason, detail: string) {
    super('INVALID_REFERENCE', `${detail}: ${JSON.stringify(input)}`);
    this.name = 'InvalidReferenceError';
    this.reason = reason;
    this.input = input;
    this.why = detail;
  }
}

// The grammar of distribution/reference, written out as regular expressions.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})`;
const DOMAIN_AND_PORT = `${HOST}(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const ANCHORED_TAG_RE = new RegExp(`^${TAG}$`);
const ANCHORED_DOMAIN_RE = new RegExp(`^${DOMAIN_AND_PORT}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

/** Go's `reference.Parse`: the grammar only, no normalization. Throws InvalidReferenceError. */
export function parseReferenceRaw(s: string): RawReference {
  if (s === '') throw new InvalidReferenceError(s, 'empty', 'invalid reference format: repository name must have at least one component');
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    const lower = s.toLowerCase();
    if (lower !== s && REFERENCE_RE.test(lower)) {
      throw new InvalidReferenceError(s, 'uppercase', 'invalid reference format: repository name must be lowercase');
    }
    throw new InvalidReferenceError(s, 'format', 'invalid reference format');
  }
  const name = m[1] as string;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidReferenceError(s, 'too-long', `invalid reference format: repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const nm = ANCHORED_NAME_RE.exec(name);
  const domain = nm?.[1] ?? '';
  const path = nm?.[2] ?? name;
  const tag = m[2];
  const digest = m[3];
  if (digest !== undefined) {
    try {
      validateDigest(digest);
    } catch (e) {
      if (e instanceof DigestError) throw new InvalidReferenceError(s, e.reason, `invalid reference format: ${e.why}`);
      throw e;
    }
  }
  return { domain, path, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** Splits a familiar name into registry and repository path the way Docker does. */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  if (slash < 0) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_REPO_PREFIX + name };
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
    domain = first === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : first;
    remainder = rest;
  } else {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Go's `ParseNormalizedNamed`: a familiar or full reference → normalized Reference (no default
 * tag added; see withDefaultTag). Throws InvalidReferenceError.
 */
export function parseReference(input: string): Reference {
  if (IDENTIFIER_RE.test(input)) {
    throw new InvalidReferenceError(input, 'hex-identifier', 'invalid repository name, cannot specify 64-byte hexadecimal strings');
  }
  const { domain, remainder } = splitDockerDomain(input);
  const colon = remainder.indexOf(':');
  const remote = colon >= 0 ? remainder.slice(0, colon) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw new InvalidReferenceError(input, 'uppercase', 'invalid reference format: repository name must be lowercase');
  }
  let raw: RawReference;
  try {
    raw = parseReferenceRaw(`${domain}/${remainder}`);
  } catch (e) {
    // Report the user's spelling, not the normalized one.
    if (e instanceof InvalidReferenceError) throw new InvalidReferenceError(input, e.reason, e.why);
    throw e;
  }
  return { domain: raw.domain || domain, path: raw.path, ...pick(raw) };
}

function pick(r: { readonly tag?: string | undefined; readonly digest?: string | undefined }): { tag?: string; digest?: string } {
  return { ...(r.tag !== undefined ? { tag: r.tag } : {}), ...(r.digest !== undefined ? { digest: r.digest } : {}) };
}

/** Adds `:latest` when the reference has neither tag nor digest (Go's `TagNameOnly`). */
export function withDefaultTag(r: Reference): Reference {
  return r.tag === undefined && r.digest === undefined ? { ...r, tag: DEFAULT_TAG } : r;
}

/** A copy with a different tag (validated) and no digest. */
export function withTag(r: Reference, tag: string): Reference {
  if (!ANCHORED_TAG_RE.test(tag)) throw new InvalidReferenceError(tag, 'format', 'invalid tag format');
  return { domain: r.domain, path: r.path, tag };
}

/** A copy pinned to a digest (tag kept, as Docker's `name:tag@digest`). */
export function withDigest(r: Reference, digest: string): Reference {
  validateDigest(digest);
  return { ...r, digest };
}

/** `domain/path`. */
export function repositoryName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** `domain/path[:tag][@digest]`, the canonical string. */
export function formatReference(r: Reference): string {
  return `${repositoryName(r)}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** The short repository name Docker shows: `alpine`, `myorg/app`, `127.0.0.1:5000/app`. */
export function familiarName(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return repositoryName(r);
  if (r.path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = r.path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return r.path;
}

/** familiarName plus tag and digest: `alpine:3.19`, `app@sha256:…`. */
export function familiarString(r: Reference): string {
  return `${familiarName(r)}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** Validates a registry `host[:port]` (as given to login/logout or --insecure-registry). */
export function isValidDomain(domain: string): boolean {
  return ANCHORED_DOMAIN_RE.test(domain);
}

/**
 * The fully qualified form with `:latest` added when neither tag nor digest is given
 * (`alpine` → `docker.io/library/alpine:latest`): the image store's names and the identifier of a
 * `docker-image://` source, so one spelling of an image always yields one digest.
 */
export function normalizeImageRef(input: string): string {
  return formatReference(withDefaultTag(parseReference(input)));
}

/** The short form Docker shows (`alpine:latest`, `myorg/app:1`) of any spelling of a reference. */
export function familiarImageRef(input: string): string {
  return familiarString(parseReference(input));
}
