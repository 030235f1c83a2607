/**
 * The daemon's change journals of client contexts on its own file system (BuildStart.context_watch,
 * docs/grpc.md "context journal"), so that a no-op build need not walk a large context at all.
 *
 * When a client on the same machine names its context directory, and the daemon sees the same
 * directory there (same root id: device, inode, birth and change time), the daemon watches it with
 * inotify (Node's fs.watch on every directory the client's listing walk reads, with the same
 * exclude patterns, and on every regular file with more than one link) BEFORE it asks for the
 * listing. Any event under it marks the journal dirty. Once the listing (digest D) has been synced,
 * a journal still clean is "clean since D"; the next build of that copy whose copy is still at D
 * is not asked for a listing (solve-receive-context.ts): the copy counts as the client's context,
 * as when a client answers `unchanged`.
 *
 * Path-precise: each event names a directory's entry, so the journal also keeps the paths that
 * may have changed (the entry and its directory). When there are at most MAX_PATHS of them, none is
 * a directory that came, went or moved (its contents were never seen, or the watches would be
 * stale), none a symlink or a file with other links, and the ignore file has no `!` exceptions
 * (whether a path is listed then follows from the path alone), the build is told `journal_delta`
 * with those paths: the client lstats them alone and the daemon merges the result into the
 * listing it kept from the last sync (context-listing-delta.ts). Anything else, and every event
 * the journal cannot place (a watched file's, an overflow, a name it cannot decode), means a walk.
 *
 * Soundness: the watches exist before the client walks, so every change after the walk yields an
 * event; before answering "clean", a barrier (a file created in a watched directory of our own,
 * and its event awaited) drains the one inotify queue the process reads, so every event of a change
 * made before the client asked has been seen. An inotify queue overflow drops events silently in
 * libuv: a burst of events as large as half the kernel's queue marks every journal dirty, and
 * watches are closed only after a barrier, so the events still queued for them are counted.
 * Anything the journal cannot vouch for — another file system type (network, FUSE, overlay), a
 * mount point inside the context, the watch limit, an unreadable directory, a daemon restart —
 * means no journal, and the client walks as before. Not seen by inotify, and so not by this: a
 * write through a hard link made after the listing from outside the context to a file inside it,
 * and writes through a shared mmap.
 */
import { lstatSync, readFileSync, realpathSync, statfsSync, statSync, watch } from 'node:fs';
import type { FSWatcher, Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { tsbuild } from '../client/gen/control.js';
import { listingExcludes } from '../client/context-excludes.js';
import { contextRootId } from '../client/context-root-id.js';
import { PatternMatcher, walkContext } from '../util/pattern-matcher/index.js';
import { InotifyBarrier } from './inotify-barrier.js';

type FileStat = tsbuild.control.v1.FileStat.$Properties;

/**
 * Changed paths up to which the client lstats just those: each costs the client an lstat (a file
 * a read and a hash) and the delta an entry, so at 1,000 a delta stays far cheaper than the walk of
 * any context large enough for it to matter, and an edit that touches more is a checkout or a
 * generator run, whose walk is not the build's main cost.
 */
const MAX_PATHS = 1000;

/** statfs f_type of local file systems whose changes all pass through this kernel: ext2/3/4, xfs, btrfs, tmpfs. */
const LOCAL_FILE_SYSTEMS = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994]);

export interface ContextJournalOptions {
  /** A directory of the daemon's own, on a local file system: barrier files are created there. */
  readonly dir: string;
  /** Contexts journalled at once; the least recently used beyond this are dropped. Default 32. */
  readonly maxContexts?: number;
  /** inotify watches for all journals; default the smaller of 65,536 and half of fs.inotify.max_user_watches. */
  readonly maxWatches?: number;
  /** Events in one read of the queue that count as a possible overflow; default half of fs.inotify.max_queued_events. */
  readonly burstLimit?: number;
  /** How long a barrier may take before the journal is not trusted. Default 5 s. */
  readonly barrierTimeoutMs?: number;
}

/** What the client said about its context (BuildStart.context_watch) and the listing's ignore file. */
export interface WatchedContext {
  readonly path: string;
  readonly rootId: string;
  readonly ignore: Uint8Array | undefined;
}

interface Journal {
  readonly key: string;
  readonly watchers: FSWatcher[];
  /** Something changed since the watches were set (or since the last reset). */
  dirty: boolean;
  /** An entry may have been created, removed or renamed: the set of watched directories is stale. */
  structural: boolean;
  /** The listing digest this journal vouches for ('' until a sync under it completed). */
  digest: string;
  /** The context cannot be journalled (too many watches, another file system…): do not try again. */
  readonly unwatchable: boolean;
  /** The context's real path, the root of the relative paths below. */
  readonly root: string;
  /** Paths (relative to root) that may have changed since the last reset; undefined: not known precisely. */
  paths: Set<string> | undefined;
  /** Of those, the ones whose entry may have been created, removed or renamed. */
  created: Set<string>;
  /** The last listing a build synced, when it had the entries (for the daemon's merge). */
  listing: { readonly digest: string; readonly entries: readonly FileStat[] } | undefined;
  /** The ignore file allows path-precise listings (no `!` exceptions) and the path is its real path. */
  readonly precise: boolean;
}

/** What `begin` found: the client may skip its walk, list only some paths, or must walk. */
export type JournalAnswer =
  | { readonly kind: 'clean' }
  | { readonly kind: 'paths'; readonly paths: readonly string[]; readonly previous: readonly FileStat[] }
  | { readonly kind: 'walk' };

const WALK: JournalAnswer = { kind: 'walk' };
const CLEAN: JournalAnswer = { kind: 'clean' };

function lstatOrNone(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function procNumber(name: string, fallback: number): number {
  try {
    const n = Number(readFileSync(`/proc/sys/fs/inotify/${name}`, 'utf8').trim());
    return Number.isFinite(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

class Unwatchable extends Error {}

export class ContextJournals {
  readonly #maxContexts: number;
  readonly #maxWatches: number;
  readonly #burstLimit: number;
  /** By copy directory, least recently used first. */
  readonly #journals = new Map<string, Journal>();
  #watches = 0;
  #burst = 0;
  readonly #barrier: InotifyBarrier;

  constructor(opts: ContextJournalOptions) {
    this.#maxContexts = opts.maxContexts ?? 32;
    this.#maxWatches = opts.maxWatches ?? Math.min(65_536, Math.floor(procNumber('max_user_watches', 8192) / 2));
    this.#burstLimit = opts.burstLimit ?? Math.floor(procNumber('max_queued_events', 16_384) / 2);
    this.#barrier = new InotifyBarrier({ dir: opts.dir, timeoutMs: opts.barrierTimeoutMs ?? 5000, onEvent: () => this.#counted() });
  }

  /**
   * Before the listing request of a build that holds `copy` (the daemon's copy, last synced to
   * `known`): 'clean' when the client's context has not changed since the listing `known` was
   * taken (the client may skip its walk); 'paths' when only those paths may have changed (the
   * journal is reset: later events count towards the next build). Otherwise the journal is
   * (re)started for the listing about to be taken, and 'walk'; `onWalk` is called as that walk of
   * the context (setting its watches) begins, which may take long.
   */
  async begin(copy: string, ctx: WatchedContext, known: string, signal: AbortSignal, onWalk?: () => void): Promise<JournalAnswer> {
    const key = this.#keyOf(ctx);
    const j = this.#journals.get(copy);
    if (j !== undefined) {
      this.#journals.delete(copy);
      this.#journals.set(copy, j);
    }
    if (key === undefined) {
      if (j !== undefined) this.#drop(copy);
      return WALK;
    }
    if (j !== undefined && j.key === key) {
      if (j.unwatchable) return WALK;
      // Every event of a change made before this point is delivered once the barrier's is.
      const drained = await this.#barrier.drain();
      if (drained && !j.dirty && j.digest !== '' && j.digest === known) return CLEAN;
      const precise = drained ? this.#precisePaths(j, copy, known) : 'restart';
      if (precise !== 'restart') {
        // Synchronously after the barrier: the events of later changes land in the new sets.
        j.dirty = false;
        j.structural = false;
        j.paths = new Set();
        j.created = new Set();
        j.digest = '';
        if (precise !== 'walk' && j.listing !== undefined) return { kind: 'paths', paths: precise, previous: j.listing.entries };
        return WALK;
      }
    }
    if (j !== undefined) this.#drop(copy);
    onWalk?.();
    await this.#start(copy, key, ctx, signal);
    return WALK;
  }

  /**
   * After a barrier, with changes seen: the paths the client need list (sorted), 'walk' when it
   * must walk but the watches still cover the tree (contents or attributes changed, no entry came
   * or went), 'restart' when the watches must be set again.
   */
  #precisePaths(j: Journal, copy: string, known: string): readonly string[] | 'walk' | 'restart' {
    const paths = j.paths;
    if (!j.precise || paths === undefined || j.digest === '' || j.digest !== known || j.listing?.digest !== known) return j.structural ? 'restart' : 'walk';
    for (const p of paths) {
      const now = lstatOrNone(join(j.root, p));
      // A file with other links may be written through a path no watch sees: it needs its own.
      if (now?.isFile() === true && now.nlink > 1) return 'restart';
      const before = lstatOrNone(join(copy, p));
      if (now?.isSymbolicLink() === true || before?.isSymbolicLink() === true) return j.structural ? 'restart' : 'walk';
      if (j.created.has(p) && (now?.isDirectory() === true || before?.isDirectory() === true)) return 'restart';
    }
    return [...paths].sort();
  }

  /**
   * The build's sync made `copy` equal to the listing `digest` (`entries`, unless the client
   * answered `unchanged`): a clean journal vouches for it, and one whose paths are still known can
   * name what changed since.
   */
  settle(copy: string, digest: string, entries: readonly FileStat[] | undefined): void {
    const j = this.#journals.get(copy);
    if (j === undefined || j.unwatchable || (j.dirty && j.paths === undefined)) return;
    if (entries !== undefined) j.listing = { digest, entries };
    else if (j.listing?.digest !== digest) j.listing = undefined;
    j.digest = digest;
  }

  /** Stops every watch. */
  close(): void {
    for (const copy of [...this.#journals.keys()]) this.#drop(copy, { now: true });
    this.#barrier.close();
  }

  /** The journal key: the directory, its id and the ignore file; undefined when the daemon does not see that directory or it is not on a local file system. */
  #keyOf(ctx: WatchedContext): string | undefined {
    if (!ctx.path.startsWith('/') || ctx.rootId === '' || contextRootId(ctx.path) !== ctx.rootId) return undefined;
    try {
      if (!LOCAL_FILE_SYSTEMS.has(statfsSync(ctx.path).type)) return undefined;
    } catch {
      return undefined;
    }
    const ignore = ctx.ignore === undefined ? 'none' : createHash('sha256').update(ctx.ignore).digest('hex');
    // Without the root's change time: its own entries coming and going are the journal's to see
    // (the root is watched), and a one-file rename at the top must not start it over.
    return `${ctx.path}\0${ctx.rootId.split(':').slice(0, 3).join(':')}\0${ignore}`;
  }

  async #start(copy: string, key: string, ctx: WatchedContext, signal: AbortSignal): Promise<void> {
    const excludes = listingExcludes(ctx.ignore);
    let precise = false;
    try {
      precise = realpathSync(ctx.path) === ctx.path && !new PatternMatcher(excludes).exclusions();
    } catch {
      // Not precise: the walk below reports what is wrong.
    }
    const j: Journal = { key, watchers: [], dirty: false, structural: false, digest: '', unwatchable: false, root: ctx.path, paths: new Set(), created: new Set(), listing: undefined, precise };
    this.#journals.set(copy, j);
    try {
      const root = statSync(ctx.path).dev;
      this.#watch(j, ctx.path, '');
      const onDirectory = (abs: string, st: Stats): void => {
        if (st.dev !== root) throw new Unwatchable(`a mount point inside the context: ${abs}`);
        this.#watch(j, abs, abs.slice(ctx.path.length + 1));
      };
      for await (const e of walkContext(ctx.path, { excludes, onDirectory, signal })) {
        // A file with other links may be written through a path outside every watched directory.
        if (e.stat.isFile() && e.stat.nlink > 1) this.#watch(j, join(ctx.path, e.path), undefined);
      }
      while (this.#journals.size > this.#maxContexts) this.#evictOldest(copy);
    } catch (e) {
      this.#drop(copy);
      if (signal.aborted) throw e;
      // Remembered, so that the next build of this context does not walk it here again.
      this.#journals.set(copy, { key, watchers: [], dirty: true, structural: true, digest: '', unwatchable: true, root: ctx.path, paths: undefined, created: new Set(), listing: undefined, precise: false });
    }
  }

  /** Watches `path`: a directory whose path relative to the root is `rel`, or (undefined) a file. */
  #watch(j: Journal, path: string, rel: string | undefined): void {
    while (this.#watches >= this.#maxWatches) {
      if (!this.#evictOldest(undefined, j)) throw new Unwatchable('the daemon watches as many directories as it may');
    }
    // Not persistent: watches never keep the daemon running.
    const w = watch(path, { persistent: false }, (type, name) => {
      this.#counted();
      j.dirty = true;
      if (type === 'rename') j.structural = true;
      this.#record(j, rel, type, name);
    });
    w.on('error', () => {
      j.dirty = true;
      j.structural = true;
      j.paths = undefined;
    });
    j.watchers.push(w);
    this.#watches++;
  }

  /**
   * Notes the path an event names: the entry `name` of the watched directory `rel`, and that
   * directory when an entry came or went (its mtime moved). An event on the directory itself names
   * its own base name: the directory is then noted too, and the odd path merely lstat'ed for nothing.
   */
  #record(j: Journal, rel: string | undefined, type: string, name: string | null): void {
    const paths = j.paths;
    if (paths === undefined) return;
    // A watched file's event (a hard link's), or a name libuv could not give or decode.
    if (rel === undefined || name === null || name === '' || name.includes('\uFFFD')) {
      j.paths = undefined;
      return;
    }
    const p = rel === '' ? name : `${rel}/${name}`;
    paths.add(p);
    // An entry that came or went moved the directory's times; so may an event on the directory itself.
    if (rel !== '' && (type === 'rename' || rel === name || rel.endsWith(`/${name}`))) paths.add(rel);
    if (type === 'rename') j.created.add(p);
    if (paths.size > MAX_PATHS) j.paths = undefined;
  }

  /** Drops the least recently used journal other than `keep`; false when there is none. */
  #evictOldest(keepCopy?: string, keep?: Journal): boolean {
    for (const [copy, j] of this.#journals) {
      if (copy === keepCopy || j === keep) continue;
      this.#drop(copy);
      return true;
    }
    return false;
  }

  /**
   * Forgets a journal. Its watches close only after a barrier: events already queued for them
   * are then delivered (and counted towards the overflow check) instead of being skipped as stale.
   */
  #drop(copy: string, opts: { readonly now?: boolean } = {}): void {
    const j = this.#journals.get(copy);
    if (j === undefined) return;
    this.#journals.delete(copy);
    this.#watches -= j.watchers.length;
    const close = (): void => { for (const w of j.watchers) w.close(); };
    if (opts.now) close();
    else void this.#barrier.drain().then(close, close);
  }

  /** One more event in this read of the queue; a burst this large may have overflowed it. */
  #counted(): void {
    if (this.#burst++ === 0) setImmediate(() => { this.#burst = 0; });
    if (this.#burst >= this.#burstLimit) {
      for (const j of this.#journals.values()) {
        j.dirty = true;
        j.structural = true;
        j.paths = undefined;
      }
    }
  }
}
