/**
 * Docker image references, normalized the way Docker and BuildKit do it (distribution/reference's
 * ParseNormalizedNamed + TagNameOnly): `alpine` → `docker.io/library/alpine:latest`,
 * `localhost:5000/app` → `localhost:5000/app:latest`, digests kept. The normalized string is what goes
 * into a `docker-image://` SourceOp identifier, so one spelling of an image always yields one digest.
 */
import { TsbuildError } from '../util/errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const MAX_NAME_LENGTH = 255;

export interface ImageRef {
  /** Registry host[:port], e.g. `docker.io`, `localhost:5000`. */
  readonly domain: string;
  /** Repository path, e.g. `library/alpine`. */
  readonly path: string;
  readonly tag: string | undefined;
  /** `algorithm:hex`, e.g. `sha256:…`. */
  readonly digest: string | undefined;
}

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})`;
const DOMAIN_RE = new RegExp(`^${host}(?::[0-9]+)?$`);
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX64_RE = /^[a-f0-9]{64}$/;

export class InvalidReferenceError extends TsbuildError {
  constructor(ref: string, why: string) {
    super('INVALID_REFERENCE', `invalid reference format "${ref}": ${why}`);
    this.name = 'InvalidReferenceError';
  }
}

function splitDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i < 0 ? '' : name.slice(0, i);
  // The first component is a registry only if it looks like a host: has a dot or a port, is
  // `localhost`, or has upper-case letters (repository paths never do).
  if (i < 0 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/** Parses and normalizes a reference as Docker does. Throws InvalidReferenceError. */
export function parseImageRef(input: string): ImageRef {
  const s = input.trim();
  if (s === '') throw new InvalidReferenceError(input, 'empty reference');
  if (HEX64_RE.test(s)) throw new InvalidReferenceError(input, 'cannot specify 64-byte hexadecimal strings');
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw new InvalidReferenceError(input, `invalid digest "${digest}"`);
  }
  const { domain, remainder } = splitDomain(rest);
  let path = remainder;
  let tag: string | undefined;
  const colon = remainder.lastIndexOf(':');
  if (colon >= 0 && !remainder.slice(colon).includes('/')) {
    tag = remainder.slice(colon + 1);
    path = remainder.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new InvalidReferenceError(input, `invalid tag "${tag}"`);
  }
  if (path.toLowerCase() !== path) throw new InvalidReferenceError(input, `repository name (${path}) must be lowercase`);
  if (!DOMAIN_RE.test(domain)) throw new InvalidReferenceError(input, `invalid registry "${domain}"`);
  if (!PATH_RE.test(path)) throw new InvalidReferenceError(input, `invalid repository name "${path}"`);
  if (domain.length + 1 + path.length > MAX_NAME_LENGTH) throw new InvalidReferenceError(input, `repository name must not be more than ${MAX_NAME_LENGTH} characters`);
  return { domain, path, tag, digest };
}

/** `domain/path[:tag][@digest]`. */
export function formatImageRef(r: ImageRef): string {
  return `${r.domain}/${r.path}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}

/** The fully qualified form with `:latest` added when neither tag nor digest is given. */
export function normalizeImageRef(input: string): string {
  const r = parseImageRef(input);
  return formatImageRef(r.tag === undefined && r.digest === undefined ? { ...r, tag: 'latest' } : r);
}

/** The short form Docker shows (`alpine:latest`, `myorg/app:1`), for messages. */
export function familiarImageRef(input: string): string {
  const r = parseImageRef(input);
  let name = `${r.domain}/${r.path}`;
  if (r.domain === DEFAULT_DOMAIN) name = r.path.startsWith(OFFICIAL_REPO_PREFIX) ? r.path.slice(OFFICIAL_REPO_PREFIX.length) : r.path;
  return `${name}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest}` : ''}`;
}
