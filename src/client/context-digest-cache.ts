/**
 * The client's memory of its context files' content digests between builds, so that a no-op
 * build through a daemon lists the context from lstat alone instead of reading and hashing every
 * file again (the engine's stat cache does the same on its side, in SQLite; the client has no
 * database and must start fast). One JSON file per context key under the user's cache directory
 * (`$XDG_CACHE_HOME/tsbuild/context-digests`, default `~/.cache/…`). An entry is trusted only when
 * size, mtime, ctime and inode all match, and is recorded only when the file was last changed
 * more than RACY_WINDOW_MS before the walk began (a write within the same timestamp tick as our
 * read would otherwise go unseen). The cache is an optimisation: a file that cannot be read,
 * parsed or written is ignored, and the listing is then computed from the files.
 */
import type { Stats } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** As the engine's stat cache (src/cache/context-hash.ts). */
const RACY_WINDOW_MS = 2000;
const FORMAT = 1;
/** Context caches kept per user; the least recently written beyond this are removed on save. */
const KEEP_FILES = 64;

/** size, mtimeMs, ctimeMs, ino, digest. */
type Row = readonly [number, number, number, number, string];

interface CacheFile {
  readonly format: number;
  readonly entries: Readonly<Record<string, Row>>;
}

/** The default directory: `$XDG_CACHE_HOME/tsbuild/context-digests`, else `~/.cache/tsbuild/context-digests`. */
export function defaultDigestCacheDir(env: NodeJS.ProcessEnv): string {
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'tsbuild', 'context-digests');
}

export class ContextDigestCache {
  readonly #file: string | undefined;
  readonly #old: Readonly<Record<string, Row>>;
  /** A Map: thousands of keys added one by one to a plain object cost a hidden-class change each. */
  readonly #next = new Map<string, Row>();
  readonly #walkStartedMs: number;
  readonly #racyWindowMs: number;
  #changed = false;

  private constructor(file: string | undefined, old: Readonly<Record<string, Row>>, walkStartedMs: number, racyWindowMs: number) {
    this.#file = file;
    this.#old = old;
    this.#walkStartedMs = walkStartedMs;
    this.#racyWindowMs = racyWindowMs;
  }

  /**
   * Loads the cache of context `key` from `dir` (undefined: no cache, every lookup misses).
   * `racyWindowMs` (default 2000, as the engine's): how long ago a file must have last changed
   * for its digest to be remembered.
   */
  static async open(dir: string | undefined, key: string, opts: { readonly racyWindowMs?: number } = {}): Promise<ContextDigestCache> {
    const started = Date.now();
    const racy = opts.racyWindowMs ?? RACY_WINDOW_MS;
    if (dir === undefined) return new ContextDigestCache(undefined, {}, started, racy);
    const file = join(dir, `${key}.json`);
    let old: Readonly<Record<string, Row>> = {};
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheFile>;
      if (parsed.format === FORMAT && typeof parsed.entries === 'object' && parsed.entries !== null) old = parsed.entries;
    } catch {
      // Missing or unreadable: start empty.
    }
    return new ContextDigestCache(file, old, started, racy);
  }

  /** The remembered digest of `path` when the file is unchanged since it was recorded. */
  get(path: string, st: Stats): string | undefined {
    const row = this.#old[path];
    if (!Array.isArray(row) || row[0] !== st.size || row[1] !== st.mtimeMs || row[2] !== st.ctimeMs || row[3] !== st.ino || typeof row[4] !== 'string') return undefined;
    this.#next.set(path, row);
    return row[4];
  }

  /** Records a digest just computed from the file's bytes. */
  set(path: string, st: Stats, digest: string): void {
    this.#changed = true;
    if (this.#walkStartedMs - Math.max(st.mtimeMs, st.ctimeMs) < this.#racyWindowMs) return;
    this.#next.set(path, [st.size, st.mtimeMs, st.ctimeMs, st.ino, digest]);
  }

  /** Writes what this walk saw, when it differs from what was loaded (best effort, atomic). */
  async save(): Promise<void> {
    if (this.#file === undefined) return;
    if (!this.#changed && this.#next.size === Object.keys(this.#old).length) return;
    const body: CacheFile = { format: FORMAT, entries: Object.fromEntries(this.#next) };
    const tmp = `${this.#file}.${process.pid}.tmp`;
    try {
      await mkdir(dirname(this.#file), { recursive: true, mode: 0o700 });
      await writeFile(tmp, JSON.stringify(body), { mode: 0o600 });
      await rename(tmp, this.#file);
      await prune(dirname(this.#file));
    } catch {
      // A read-only home or a full disk costs only the next build's hashing.
    }
  }
}

/** Keeps the KEEP_FILES most recently written caches: contexts come and go (temp dirs, CI checkouts). */
async function prune(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  if (names.length <= KEEP_FILES) return;
  const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => b.t - a.t);
  await Promise.all(dated.slice(KEEP_FILES).map((d) => rm(join(dir, d.n), { force: true })));
}
