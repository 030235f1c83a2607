/**
 * Git URLs as Dockerfile ADD and build contexts write them: `remote#ref:subdir` (the classic
 * fragment) or `remote?ref=…&subdir=…&keep-git-dir=…` (the query form), with remotes in any form
 * git accepts (https, ssh, git://, scp-like `git@host:path`, file://).
 */
import type { GitUrl } from './types.js';

/** Whether ADD should treat `src` as a git repository (moby's urlutil.IsGitURL rules). */
export function isGitUrl(src: string): boolean {
  if (/^(git:\/\/|git@|ssh:\/\/|github\.com\/)/.test(src)) return true;
  if (!/^https?:\/\//.test(src)) return false;
  const noQuery = src.replace(/\?[^#]*/, '');
  return /\.git(?:#.*)?$/.test(noQuery);
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);

/** Splits a git URL into remote, ref, subdir and keep-git-dir. */
export function parseGitUrl(src: string): GitUrl {
  let rest = src;
  let ref: string | undefined;
  let subdir: string | undefined;
  let keepGitDir: boolean | undefined;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    const frag = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
    const colon = frag.indexOf(':');
    const r = colon >= 0 ? frag.slice(0, colon) : frag;
    const s = colon >= 0 ? frag.slice(colon + 1) : '';
    if (r !== '') ref = r;
    if (s !== '') subdir = s;
  }
  const q = rest.indexOf('?');
  // scp-like remotes (git@host:path) have no query syntax; only URLs do.
  if (q >= 0 && /^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) {
    const params = new URLSearchParams(rest.slice(q + 1));
    rest = rest.slice(0, q);
    ref = params.get('ref') ?? params.get('tag') ?? params.get('branch') ?? ref;
    subdir = params.get('subdir') ?? subdir;
    const keep = params.get('keep-git-dir');
    if (keep !== null) keepGitDir = TRUE.has(keep.toLowerCase());
  }
  return { remote: rest, ref, subdir, keepGitDir };
}
