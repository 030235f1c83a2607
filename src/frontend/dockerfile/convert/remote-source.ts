/**
 * Which ADD sources are remote: git repositories (`git@host:repo.git`, `git://…`, `ssh://…`,
 * `https://…/repo.git`, with `#ref:subdir` or `?ref=…&subdir=…`) and plain HTTP(S) files.
 */
import { posix } from 'node:path';
import { State } from '../../../llb/state.js';
import type { OpConstraints } from '../../../llb/types.js';

export interface GitSourceRef {
  /** The repository URL without fragment or query. */
  readonly remote: string;
  readonly ref: string | undefined;
  readonly subdir: string | undefined;
  readonly keepGitDir: boolean | undefined;
  readonly checksum: string | undefined;
}

const SCP_LIKE = /^[\w.-]+@[\w.-]+:(?!\/\/)/;

// Module constants: a regular expression literal is a new object each time it is evaluated.
const GIT_SCHEME = /^(git|ssh|git\+ssh):\/\//i;
const HTTP_SCHEME = /^https?:\/\//i;
const GIT_SUFFIX = /\.git\/?$/;

export function parseGitSource(src: string): GitSourceRef | undefined {
  if (!src.includes(':')) return undefined; // every remote form has a scheme or host: separator
  const hashAt = src.indexOf('#');
  const fragment = hashAt >= 0 ? src.slice(hashAt + 1) : undefined;
  let base = hashAt >= 0 ? src.slice(0, hashAt) : src;
  let query: URLSearchParams | undefined;
  const q = base.indexOf('?');
  if (q >= 0 && !SCP_LIKE.test(base)) {
    query = new URLSearchParams(base.slice(q + 1));
    base = base.slice(0, q);
  }
  const isGit = SCP_LIKE.test(base)
    || GIT_SCHEME.test(base)
    || (HTTP_SCHEME.test(base) && GIT_SUFFIX.test(base));
  if (!isGit) return undefined;
  let ref: string | undefined;
  let subdir: string | undefined;
  if (fragment !== undefined && fragment !== '') {
    const colon = fragment.indexOf(':');
    ref = (colon < 0 ? fragment : fragment.slice(0, colon)) || undefined;
    subdir = colon < 0 ? undefined : fragment.slice(colon + 1) || undefined;
  }
  const keep = query?.get('keep-git-dir');
  return {
    remote: base,
    ref: query?.get('ref') ?? query?.get('tag') ?? query?.get('branch') ?? ref,
    subdir: query?.get('subdir') ?? subdir,
    keepGitDir: keep === null || keep === undefined ? undefined : keep === 'true' || keep === '1',
    checksum: query?.get('checksum') ?? undefined,
  };
}

export function isHttpSource(src: string): boolean {
  return (src.startsWith('http://') || src.startsWith('https://') || HTTP_SCHEME.test(src)) && parseGitSource(src) === undefined;
}

/**
 * An http(s) URL whose path the URL parser hands back as written: lower-case scheme; a host of
 * letters, digits and inner hyphens whose last label starts with a letter (not a number the parser
 * would read as an IPv4 address) and holds no punycode; a port of at most 5 digits (checked
 * below); path segments of unreserved characters that are not dot segments; no query, fragment,
 * user info or percent escapes. Groups: the port, the path.
 */
const PLAIN_HTTP_URL = /^https?:\/\/(?:[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*\.)*[A-Za-z][A-Za-z0-9]*(?:-+[A-Za-z0-9]+)*(?::([0-9]{1,5}))?((?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*\/?)$/;

/** The file name of a downloaded URL: its last path element, or `__unnamed__` (as Docker). */
export function httpFilename(src: string): string {
  // Most URLs are plain: their path is as written and has nothing to decode (a URL object per
  // ADD was ~5 µs, a visible share of converting a Dockerfile of many ADDs).
  const plain = PLAIN_HTTP_URL.exec(src);
  if (plain && !src.includes('xn--') && (plain[1] === undefined || Number(plain[1]) <= 65535)) {
    const base = posix.basename(plain[2] || '/');
    return base === '' ? '__unnamed__' : base;
  }
  try {
    const base = posix.basename(new URL(src).pathname);
    return base === '' || base === '.' || base === '/' ? '__unnamed__' : decodeURIComponent(base);
  } catch {
    return '__unnamed__';
  }
}

/**
 * The checkout of `git` (ADD of a repository, a Git `--build-context`); `keepGitDir` and
 * `checksum` given here win over the URL's own.
 */
export function gitState(git: GitSourceRef, constraints: OpConstraints, over: { readonly keepGitDir?: boolean | undefined; readonly checksum?: string | undefined } = {}): State {
  const sum = over.checksum ?? git.checksum;
  return State.git(git.remote, {
    ...(git.ref ? { ref: git.ref } : {}),
    ...(git.subdir ? { subdir: git.subdir } : {}),
    ...((over.keepGitDir ?? git.keepGitDir) ? { keepGitDir: true } : {}),
    ...(sum ? { checksum: sum } : {}),
    constraints,
  });
}
