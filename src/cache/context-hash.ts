/**
 * Content checksums of build-context paths, for cache keys. A checksum covers exactly the selected
 * entries: per entry its type, path (relative to the selection), mode, uid, gid and either the
 * file content's xxh64, the symlink target or the device number — never timestamps, so touching
 * a file or checking it out again changes nothing. A stat cache (size, mtime, ctime, inode →
 * content digest) lets unchanged files go unread.
 *
 * checksumPath() answers for one COPY source (a file, a directory tree, or a wildcard), so that
 * changing one source invalidates only the COPY that reads it; hashContext() answers for a whole
 * selection of the context (the include/follow paths and .dockerignore excludes of a local source).
 * Selectors are read by context-selector.ts, and what entries contribute besides their stat (file
 * content digests, through the stat cache) by context-contents.ts.
 */
import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { throwIfAborted, TsbuildError } from '../util/errors.js';
import { PatternMatcher, walkContext } from '../util/pattern-matcher/index.js';
import { readContents, type ContextEntry } from './context-contents.js';
import { compareMatches, hasWildcard, literalPattern, matcherOf, notFound } from './context-selector.js';
import { cleanRelative } from './scoped-path.js';
import { resolveInRootSync } from '../util/root-path.js';
import type {
  ChecksumGroup, ChecksumOptions, ChecksumPathOptions, ChecksumState, ContentChecksum, ContextHashResult, HashContextOptions,
} from './types.js';
import type { Xxh64 } from './xxhash.js';
import { hex64, loadXxh64 } from './xxhash.js';

/**
 * The context root's real path, with one synchronous realpath(3) (a few lstat calls): a COPY's
 * checksum runs between a change's context sync and the COPY itself, where each thread-pool round
 * trip waits for a pool thread and a turn of the event loop, 1-8 ms on a loaded machine (issue 14).
 */
function realRootOf(root: string): string {
  return realpathSync.native(root);
}

/**
 * A literal selection that names one regular file the walk would yield (no exclude covers it or a
 * parent; no `!` exception that could matter): its entry, from one lstat. Undefined otherwise, and
 * the caller walks. The walk of a file's path lists the root's directory (a readdir, and a realpath,
 * through the thread pool) only to yield this same entry.
 */
function singleFile(root: string, resolved: string, excludes: readonly string[] | undefined): ContextEntry | undefined {
  if (excludes !== undefined && excludes.length > 0) {
    const m = new PatternMatcher(excludes);
    if (m.exclusions() || m.matchesOrParentMatches(resolved)) return undefined;
  }
  const stat = lstatSync(join(root, resolved), { throwIfNoEntry: false });
  return stat?.isFile() === true ? { path: resolved, stat } : undefined;
}

interface Digested {
  readonly digest: ContentChecksum;
  readonly entries: number;
  readonly bytes: number;
  readonly filesRead: number;
}

function kindOf(st: Stats): string {
  if (st.isFile()) return 'f';
  if (st.isDirectory()) return 'd';
  if (st.isSymbolicLink()) return 'l';
  if (st.isCharacterDevice()) return 'c';
  if (st.isBlockDevice()) return 'b';
  if (st.isFIFO()) return 'p';
  return 's';
}

/** Computes context checksums; holds the xxhash wasm instance. Reuse one for many calls. */
export class ContextHasher {
  private readonly xx: Xxh64;

  private constructor(xx: Xxh64) {
    this.xx = xx;
  }

  static async create(): Promise<ContextHasher> {
    return new ContextHasher(await loadXxh64());
  }

  /** A regular file's content digest from its bytes: what a checksum reading the file records. */
  fileDigest(data: Uint8Array): string {
    return `xxh64:${hex64(this.xx.h64Raw(data))}`;
  }

  /** Checksum of the selected part of a context directory. */
  async hashContext(opts: HashContextOptions): Promise<ContextHashResult> {
    throwIfAborted(opts.signal);
    const root = realRootOf(opts.root);
    const include = opts.include?.filter((p) => p.trim() !== '') ?? [];
    const entries: ContextEntry[] = [];
    for await (const e of walkContext(root, {
      ...(opts.excludes ? { excludes: opts.excludes } : {}),
      ...(include.length > 0 ? { includes: include, followPaths: include } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    })) entries.push(e);
    return this.digest(root, entries, '', opts);
  }

  /**
   * Checksum of one selected path of a context: a file, a directory tree or (wildcard) every match
   * with its tree. Throws CONTEXT_PATH_NOT_FOUND (with opts.location) when nothing is selected.
   */
  async checksumPath(root: string, selector: string, opts: ChecksumPathOptions = {}): Promise<ContentChecksum> {
    throwIfAborted(opts.signal);
    const realRoot = realRootOf(root);
    const sel = cleanRelative(selector);
    // The whole context (`COPY . /dst`: src "/", flagged as a wildcard by the frontend) is a literal
    // path: as a pattern it has no top-level match and would hash to a constant, whatever the files.
    const wildcard = sel !== '' && (opts.wildcard ?? hasWildcard(sel));
    return wildcard ? this.checksumWildcard(realRoot, sel, opts) : (await this.checksumLiteral(realRoot, sel, opts)).digest;
  }

  /**
   * checksumPath, with the state checksumPathUpdate needs. The entries covered are in the state
   * (not reported through opts.onEntry).
   */
  async checksumPathState(root: string, selector: string, opts: ChecksumPathOptions = {}): Promise<ChecksumState> {
    throwIfAborted(opts.signal);
    const realRoot = realRootOf(root);
    const sel = cleanRelative(selector);
    const { onEntry: _ignored, ...rest } = opts;
    if (sel !== '' && (opts.wildcard ?? hasWildcard(sel))) {
      const groups: ChecksumGroup[] = [];
      const digest = await this.checksumWildcard(realRoot, sel, rest, groups);
      return { kind: 'wildcard', digest, groups };
    }
    const entries: (string | number)[] = [];
    const r = await this.checksumLiteral(realRoot, sel, { ...rest, onEntry: (p, f, n) => entries.push(p, f, n) });
    return { kind: 'literal', digest: r.digest, resolved: r.resolved, direct: r.resolved === sel, entries };
  }

  /**
   * The state checksumPathState would give now, from `previous` (the same root, selector and
   * options, when the root differed from now only at `changed` root-relative paths — and nothing
   * beneath a changed path unless listed too; no directory came, went or changed kind) — by
   * walking only the matches those paths touch. Undefined when that cannot be known exactly (a
   * followed symlink, excludes, the whole context): the caller walks in full.
   */
  async checksumPathUpdate(root: string, selector: string, previous: ChecksumState, changed: readonly string[], opts: ChecksumPathOptions = {}): Promise<ChecksumState | undefined> {
    throwIfAborted(opts.signal);
    const sel = cleanRelative(selector);
    if (previous.kind === 'literal') {
      const r = previous.resolved;
      if (!previous.direct || r === '') return undefined;
      return changed.some((p) => p === r || p.startsWith(`${r}/`) || r.startsWith(`${p}/`)) ? undefined : previous;
    }
    if ((opts.excludes?.length ?? 0) > 0 || previous.groups.some((g) => g.followed)) return undefined;
    const realRoot = realRootOf(root);
    const comps = sel.split('/');
    const isMatch = matcherOf(sel, opts);
    const touched = new Set<string>();
    for (const p of changed) {
      const parts = p.split('/');
      if (parts.length < comps.length) continue; // above every match: not part of any checksum
      const prefix = parts.slice(0, comps.length).join('/');
      if (isMatch(prefix)) touched.add(prefix);
    }
    if (touched.size === 0) return previous;
    const groups = previous.groups.filter((g) => !touched.has(g.match));
    for (const prefix of [...touched].sort(compareMatches)) {
      const g = await this.groupAt(realRoot, prefix, opts);
      if (g === undefined) continue;
      let lo = 0;
      let hi = groups.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareMatches((groups[mid] as ChecksumGroup).match, prefix) < 0) lo = mid + 1;
        else hi = mid;
      }
      groups.splice(lo, 0, g);
    }
    if (groups.length === 0 && !opts.allowEmptyWildcard) throw notFound(sel, opts);
    return { kind: 'wildcard', digest: this.combineGroups(groups), groups };
  }

  /** The group of one wildcard match (no excludes), as the full walk would make it; undefined: no such entry. */
  private async groupAt(root: string, match: string, opts: ChecksumPathOptions): Promise<ChecksumGroup | undefined> {
    const parts = match.split('/');
    for (let i = 1; i < parts.length; i++) {
      if (lstatSync(join(root, ...parts.slice(0, i)), { throwIfNoEntry: false })?.isDirectory() !== true) return undefined;
    }
    const abs = join(root, match);
    const stat = lstatSync(abs, { throwIfNoEntry: false });
    if (stat === undefined) return undefined;
    const flat: (string | number)[] = [];
    const { onEntry: _ignored, ...rest } = opts;
    const collect = { ...rest, onEntry: (p: string, f: string, n: number) => { flat.push(p, f, n); } };
    if (stat.isSymbolicLink() && (opts.followLinks ?? true)) {
      const r = await this.checksumLiteral(root, match, { ...collect, followLinks: true });
      return { match, digest: r.digest, entries: flat, followed: true };
    }
    const entries: ContextEntry[] = [{ path: match, stat }];
    if (stat.isDirectory()) {
      for await (const e of walkContext(abs, opts.signal ? { signal: opts.signal } : {})) entries.push({ path: `${match}/${e.path}`, stat: e.stat });
    }
    const contents = await readContents(this.xx, root, entries, opts);
    return { match, digest: this.hashEntries(entries, contents.extra, match, collect), entries: flat, followed: false };
  }

  /** The digest of a wildcard selector from its matches' (in walk order). */
  private combineGroups(groups: readonly { readonly match: string; readonly digest: string }[]): ContentChecksum {
    const h = this.xx.create64();
    for (const g of groups) h.update(`m\0${g.match}\0${g.digest}\n`);
    return `xxh64:${hex64(h.digest())}`;
  }

  private async checksumLiteral(root: string, sel: string, opts: ChecksumPathOptions): Promise<{ readonly digest: ContentChecksum; readonly resolved: string }> {
    // Synchronous: a few lstat calls, each of which would otherwise be a thread-pool round trip.
    const found = resolveInRootSync(root, sel, {
      followFinal: opts.followLinks ?? true,
      loopError: () => new TsbuildError('CONTEXT_SYMLINK_LOOP', `too many levels of symbolic links resolving ${sel}`),
    });
    if (!found.exists) throw notFound(sel, opts);
    const resolved = found.inRoot.slice(1);
    throwIfAborted(opts.signal);
    const single = resolved !== '' ? singleFile(root, resolved, opts.excludes) : undefined;
    if (single !== undefined) return { digest: (await this.digest(root, [single], resolved, opts)).digest, resolved };
    const entries: ContextEntry[] = [];
    const prefix = `${resolved}/`;
    for await (const e of walkContext(root, {
      ...(opts.excludes ? { excludes: opts.excludes } : {}),
      ...(resolved !== '' ? { includes: [literalPattern(resolved)] } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    })) {
      if (resolved === '' || e.path === resolved || e.path.startsWith(prefix)) entries.push(e);
    }
    if (resolved !== '' && entries[0]?.path !== resolved) throw notFound(sel, opts); // excluded
    return { digest: (await this.digest(root, entries, resolved, opts)).digest, resolved };
  }

  /** `keep`: filled with every match's group (checksumPathState). */
  private async checksumWildcard(root: string, sel: string, opts: ChecksumPathOptions, keep?: ChecksumGroup[]): Promise<ContentChecksum> {
    const isMatch = matcherOf(sel, opts);
    // Walk once; every top-level match collects the entries below it.
    const groups: { match: ContextEntry; entries: ContextEntry[] }[] = [];
    for await (const e of walkContext(root, {
      includes: [sel],
      ...(opts.excludes ? { excludes: opts.excludes } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    })) {
      const cur = groups[groups.length - 1];
      if (cur && e.path.startsWith(`${cur.match.path}/`)) cur.entries.push(e);
      else if (isMatch(e.path)) groups.push({ match: e, entries: [e] });
    }
    if (groups.length === 0 && !opts.allowEmptyWildcard) throw notFound(sel, opts);
    // The contents of every match are read in one pass (one stat-cache preload and one write of
    // new rows, the thread pool kept busy), then each match is hashed on its own: `COPY f*` of
    // 100,000 files is 100,000 matches (issue 14).
    const follow = (g: { match: ContextEntry }): boolean => g.match.stat.isSymbolicLink() && (opts.followLinks ?? true);
    const flat = groups.filter((g) => !follow(g)).flatMap((g) => g.entries);
    const contents = await readContents(this.xx, root, flat, opts);
    const digests: { match: string; digest: string }[] = [];
    let at = 0;
    for (const g of groups) {
      throwIfAborted(opts.signal);
      const entries: (string | number)[] = [];
      const o = keep ? { ...opts, onEntry: (p: string, f: string, n: number) => { entries.push(p, f, n); } } : opts;
      let digest: string;
      if (follow(g)) {
        digest = (await this.checksumLiteral(root, g.match.path, { ...o, followLinks: true })).digest;
      } else {
        digest = this.hashEntries(g.entries, contents.extra.slice(at, at + g.entries.length), g.match.path, o);
        at += g.entries.length;
      }
      digests.push({ match: g.match.path, digest });
      keep?.push({ match: g.match.path, digest, entries, followed: follow(g) });
    }
    return this.combineGroups(digests);
  }

  /** Hashes entries (in walk order); paths are taken relative to `base`. */
  private async digest(root: string, entries: readonly ContextEntry[], base: string, opts: ChecksumOptions): Promise<Digested> {
    const c = await readContents(this.xx, root, entries, opts);
    return { digest: this.hashEntries(entries, c.extra, base, opts), entries: entries.length, bytes: c.bytes, filesRead: c.filesRead };
  }

  /** The digest of entries (in walk order) with their contents' parts; paths relative to `base`. */
  private hashEntries(entries: readonly ContextEntry[], extra: readonly string[], base: string, opts: ChecksumOptions): ContentChecksum {
    const h = this.xx.create64();
    const strip = base === '' ? 0 : base.length + 1;
    const onEntry = opts.onEntry;
    entries.forEach((e, i) => {
      const rel = e.path === base ? '' : e.path.slice(strip);
      const own = `${kindOf(e.stat)}\0${e.stat.mode.toString(8)}\0${e.stat.uid}\0${e.stat.gid}\0${extra[i]}`;
      h.update(`${kindOf(e.stat)}\0${rel}\0${e.stat.mode.toString(8)}\0${e.stat.uid}\0${e.stat.gid}\0${extra[i]}\n`);
      if (onEntry) onEntry(e.path, hex64(this.xx.h64Raw(Buffer.from(own))), e.stat.isFile() ? e.stat.size : 0);
    });
    return `xxh64:${hex64(h.digest())}`;
  }
}

/** hashContext with a fresh hasher (prefer one ContextHasher for many calls). */
export async function hashContext(opts: HashContextOptions): Promise<ContextHashResult> {
  return (await ContextHasher.create()).hashContext(opts);
}

/** checksumPath with a fresh hasher (prefer one ContextHasher for many calls). */
export async function checksumPath(root: string, selector: string, opts: ChecksumPathOptions = {}): Promise<ContentChecksum> {
  return (await ContextHasher.create()).checksumPath(root, selector, opts);
}
