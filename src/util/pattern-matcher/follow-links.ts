/**
 * Resolving "follow paths" (fsutil's FollowLinks): for each path, every symlink met along the way is
 * resolved inside the root (targets are re-rooted at the context root, never followed outside it),
 * recursively, and both the link and its target end up in the result. BuildKit sends the sources of
 * a COPY this way so that a copied symlink's target travels with the context.
 */
// node:fs/promises through node:fs's lazy `promises` getter (util/lazy-builtin.ts).
import { promises as fsp } from 'node:fs';
import { join as joinNative } from 'node:path';
import { throwIfAborted } from '../errors.js';
import { globMatch } from './glob-match.js';
import { compareGoStrings, goClean, goDir } from './go-compat.js';

function goJoin(...elems: string[]): string {
  const nonEmpty = elems.filter((e) => e !== '');
  return nonEmpty.length === 0 ? '' : goClean(nonEmpty.join('/'));
}

function goBase(path: string): string {
  if (path === '') return '.';
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  const i = trimmed.lastIndexOf('/');
  return trimmed.slice(i + 1);
}

function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

function isNotFound(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Drops paths below an earlier path (input expected sorted); `undefined` when `.` is among them,
 * which means "everything" (no filter at all).
 */
export function dedupePaths(paths: readonly string[]): string[] | undefined {
  const out: string[] = [];
  let last = '';
  for (const s of paths) {
    if (s === '.') return undefined;
    if (s.startsWith(`${last}/`)) continue;
    out.push(s);
    last = s;
  }
  return out;
}

class SymlinkResolver {
  readonly resolved = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async append(pathIn: string): Promise<void> {
    throwIfAborted(this.signal);
    let p = goJoin('.', pathIn);
    let current = '.';
    for (;;) {
      const cut = p.indexOf('/');
      const head = cut < 0 ? p : p.slice(0, cut);
      current = goJoin(current, head);
      const targets = await this.readSymlink(current, { allowWildcard: true });
      p = cut < 0 ? '' : p.slice(cut + 1);
      if ((p === '' || targets !== undefined) && this.resolved.has(current)) return;
      if (targets !== undefined) {
        this.resolved.add(current);
        for (const target of targets) await this.append(goJoin(target, p));
        return;
      }
      if (p === '') {
        this.resolved.add(current);
        return;
      }
    }
  }

  /** Link targets (root-relative, absolute form) of `p`; undefined when `p` is not a symlink. */
  private async readSymlink(p: string, opts: { allowWildcard: boolean }): Promise<string[] | undefined> {
    const realPath = joinNative(this.root, p);
    const base = goBase(p);
    if (opts.allowWildcard && containsWildcards(base)) {
      let names: string[];
      try {
        names = (await fsp.readdir(goDir(realPath))).sort(compareGoStrings);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
      const out: string[] = [];
      for (const name of names) {
        let ok = false;
        try {
          ok = globMatch(base, name);
        } catch {
          ok = false;
        }
        if (!ok) continue;
        const res = await this.readSymlink(goJoin(goDir(p), name), { allowWildcard: false });
        if (res) out.push(...res);
      }
      return out.length > 0 ? out : undefined;
    }
    let isLink: boolean;
    try {
      isLink = (await fsp.lstat(realPath)).isSymbolicLink();
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    if (!isLink) return undefined;
    const link = goClean(await fsp.readlink(realPath));
    if (link.startsWith('/')) return [link];
    return [goJoin('/', goJoin(goDir(p), link))];
  }
}

/**
 * The follow paths with every symlink on them resolved (links and targets both listed), sorted and
 * deduplicated; undefined when one of them is the root itself (no filtering needed).
 */
export async function followLinks(
  root: string,
  paths: readonly string[],
  opts: { signal?: AbortSignal } = {},
): Promise<string[] | undefined> {
  const r = new SymlinkResolver(root, opts.signal);
  for (const p of paths) await r.append(p);
  return dedupePaths([...r.resolved].sort(compareGoStrings));
}
