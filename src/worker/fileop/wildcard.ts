/**
 * Source wildcard expansion inside a root (BuildKit's ResolveWildcards). Components before the first
 * wildcard are resolved like any path (symlinks followed, scoped to the root); from there each
 * component is matched against directory entries with Go's filepath.Match rules, descending only
 * into real directories, in byte order of names.
 */
import { lstatSync, type Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { posix } from 'node:path';
import type { SourceLocation } from '../../util/errors.js';
import { fileOpIoError, fileOpUserError, isNotFound } from './errors.js';
import { BadGlobError, checkGlobSyntax, globMatch } from '../../util/pattern-matcher/index.js';
import { sortNames } from './byte-order.js';
import { hasWildcards, unescapeLiteral } from './wildcard-syntax.js';
import { resolveInRoot } from './root-path.js';
import { hostPathOf, splitComponents } from '../../util/root-path.js';

export interface SourceMatch {
  /** In-root path of the match: the resolved directory it was found in, plus its name. */
  readonly inRoot: string;
  /** The match relative to the expansion base, as the pattern spelled it (for --parents and excludes). */
  readonly rel: string;
  /**
   * A wildcard match's lstat, taken when it was found. Its parent directories are already resolved
   * (the expansion descends only into real directories), so `inRoot` needs no further resolving
   * unless its last component is to be followed.
   */
  readonly stat?: Stats;
}

export interface ExpandOptions {
  readonly root: string;
  /** In-root directory the pattern is relative to (`/` for plain sources, the `--parents` pivot). */
  readonly base: string;
  /** Relative path or pattern. */
  readonly pattern: string;
  readonly allowWildcard: boolean;
  readonly location?: SourceLocation | undefined;
}

export interface Expansion {
  /** Whether the pattern held wildcards (then the destination is a directory). */
  readonly wildcard: boolean;
  readonly matches: readonly SourceMatch[];
}

/** Expands a source pattern. A literal path is returned as is, even when it does not exist. */
export async function expandSource(opts: ExpandOptions): Promise<Expansion> {
  const comps = splitComponents(opts.pattern);
  const first = opts.allowWildcard ? comps.findIndex(hasWildcards) : -1;
  if (first < 0) {
    const rel = await literalPath(opts, comps);
    return { wildcard: false, matches: [{ inRoot: posix.join(opts.base, rel), rel }] };
  }
  const prefix = comps.slice(0, first).map(unescapeLiteral);
  const patterns: Component[] = comps.slice(first).map((c) => (hasWildcards(c) ? { glob: c } : unescapeLiteral(c)));
  try {
    for (const c of patterns) if (typeof c !== 'string') checkGlobSyntax(c.glob);
  } catch (e) {
    if (e instanceof BadGlobError) {
      throw fileOpUserError('FILEOP_BAD_PATTERN', [opts.pattern, e.message], { location: opts.location });
    }
    throw e;
  }
  const dir = await resolveInRoot(opts.root, posix.join(opts.base, ...prefix), { followFinal: true, location: opts.location });
  const matches: SourceMatch[] = [];
  await expandFrom(opts.root, dir.inRoot, prefix.join('/'), patterns, 0, matches);
  return { wildcard: true, matches };
}

/**
 * The literal path, unescaped when wildcards are allowed (`a\[1\]` names `a[1]`), falling back to the
 * text as written when only that exists (a file may really have a backslash in its name).
 */
async function literalPath(opts: ExpandOptions, comps: readonly string[]): Promise<string> {
  const raw = comps.join('/');
  if (!opts.allowWildcard || !raw.includes('\\')) return raw;
  const unescaped = comps.map(unescapeLiteral).join('/');
  if (await exists(opts.root, posix.join(opts.base, unescaped))) return unescaped;
  return (await exists(opts.root, posix.join(opts.base, raw))) ? raw : unescaped;
}

async function exists(root: string, p: string): Promise<boolean> {
  const r = await resolveInRoot(root, p, { followFinal: false });
  try {
    await lstat(r.host);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

/** A pattern component: a glob (Go filepath.Match syntax) or a literal name. */
type Component = { readonly glob: string } | string;

async function expandFrom(
  root: string,
  dirInRoot: string,
  relSoFar: string,
  patterns: readonly Component[],
  i: number,
  out: SourceMatch[],
): Promise<void> {
  const pat = patterns[i] as Component;
  const last = i === patterns.length - 1;
  let names: string[];
  if (typeof pat === 'string') {
    names = [pat];
  } else {
    try {
      names = sortNames((await readdir(hostPathOf(root, dirInRoot))).filter((n) => globMatch(pat.glob, n)));
    } catch (e) {
      if (isNotFound(e)) return;
      throw fileOpIoError(`read directory ${dirInRoot}`, e);
    }
  }
  for (const name of names) {
    const inRoot = posix.join(dirInRoot, name);
    const rel = relSoFar === '' ? name : `${relSoFar}/${name}`;
    // A synchronous lstat: the name was just listed (its inode is cached), and a trip through the
    // thread pool per match costs more than the call (COPY f* of 100,000 files; issue 14).
    let st: Stats | undefined;
    try {
      st = lstatSync(hostPathOf(root, inRoot), { throwIfNoEntry: false });
    } catch (e) {
      if (isNotFound(e)) continue;
      throw fileOpIoError(`stat ${inRoot}`, e);
    }
    if (st === undefined) continue;
    if (last) out.push({ inRoot, rel, stat: st });
    else if (st.isDirectory()) await expandFrom(root, inRoot, rel, patterns, i + 1, out);
  }
}
