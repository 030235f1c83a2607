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
 * is told `journal_clean` and the client answers `unchanged` without walking.
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
import { mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, watch, writeFileSync } from 'node:fs';
import type { FSWatcher, Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { listingExcludes } from '../client/context-excludes.js';
import { contextRootId } from '../client/context-root-id.js';
import { walkContext } from '../util/pattern-matcher/index.js';

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
  readonly #dir: string;
  readonly #maxContexts: number;
  readonly #maxWatches: number;
  readonly #burstLimit: number;
  readonly #barrierTimeoutMs: number;
  /** By copy directory, least recently used first. */
  readonly #journals = new Map<string, Journal>();
  #watches = 0;
  #burst = 0;
  #barrierWatcher: FSWatcher | undefined;
  #barrierSeq = 0;
  readonly #barriers = new Map<string, (seen: boolean) => void>();

  constructor(opts: ContextJournalOptions) {
    this.#dir = opts.dir;
    this.#maxContexts = opts.maxContexts ?? 32;
    this.#maxWatches = opts.maxWatches ?? Math.min(65_536, Math.floor(procNumber('max_user_watches', 8192) / 2));
    this.#burstLimit = opts.burstLimit ?? Math.floor(procNumber('max_queued_events', 16_384) / 2);
    this.#barrierTimeoutMs = opts.barrierTimeoutMs ?? 5000;
  }

  /**
   * Before the listing request of a build that holds `copy` (the daemon's copy, last synced to
   * `known`): true when the client's context has not changed since the listing `known` was taken
   * (the client may skip its walk). Otherwise the journal is (re)started for the listing about to
   * be taken, and false.
   */
  async begin(copy: string, ctx: WatchedContext, known: string, signal: AbortSignal): Promise<boolean> {
    const key = this.#keyOf(ctx);
    const j = this.#journals.get(copy);
    if (j !== undefined) {
      this.#journals.delete(copy);
      this.#journals.set(copy, j);
    }
    if (key === undefined) {
      if (j !== undefined) this.#drop(copy);
      return false;
    }
    if (j !== undefined && j.key === key) {
      if (j.unwatchable) return false;
      // Every event of a change made before this point is delivered once the barrier's is.
      const drained = await this.#barrier();
      if (drained && !j.dirty && j.digest !== '' && j.digest === known) return true;
      if (drained && !j.structural) {
        // Contents or attributes changed, no entry came or went: the same watches cover the tree.
        j.dirty = false;
        j.digest = '';
        return false;
      }
    }
    if (j !== undefined) this.#drop(copy);
    await this.#start(copy, key, ctx, signal);
    return false;
  }

  /** The build's sync made `copy` equal to the listing `digest`: a clean journal vouches for it. */
  settle(copy: string, digest: string): void {
    const j = this.#journals.get(copy);
    if (j !== undefined && !j.dirty && !j.unwatchable) j.digest = digest;
  }

  /** Stops every watch. */
  close(): void {
    for (const copy of [...this.#journals.keys()]) this.#drop(copy, { now: true });
    this.#barrierWatcher?.close();
    this.#barrierWatcher = undefined;
    for (const done of this.#barriers.values()) done(false);
    this.#barriers.clear();
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
    return `${ctx.path}\0${ctx.rootId}\0${ignore}`;
  }

  async #start(copy: string, key: string, ctx: WatchedContext, signal: AbortSignal): Promise<void> {
    const j: Journal = { key, watchers: [], dirty: false, structural: false, digest: '', unwatchable: false };
    this.#journals.set(copy, j);
    try {
      const root = statSync(ctx.path).dev;
      this.#watch(j, ctx.path);
      const onDirectory = (abs: string, st: Stats): void => {
        if (st.dev !== root) throw new Unwatchable(`a mount point inside the context: ${abs}`);
        this.#watch(j, abs);
      };
      for await (const e of walkContext(ctx.path, { excludes: listingExcludes(ctx.ignore), onDirectory, signal })) {
        // A file with other links may be written through a path outside every watched directory.
        if (e.stat.isFile() && e.stat.nlink > 1) this.#watch(j, join(ctx.path, e.path));
      }
      while (this.#journals.size > this.#maxContexts) this.#evictOldest(copy);
    } catch (e) {
      this.#drop(copy);
      if (signal.aborted) throw e;
      // Remembered, so that the next build of this context does not walk it here again.
      this.#journals.set(copy, { key, watchers: [], dirty: true, structural: true, digest: '', unwatchable: true });
    }
  }

  #watch(j: Journal, path: string): void {
    while (this.#watches >= this.#maxWatches) {
      if (!this.#evictOldest(undefined, j)) throw new Unwatchable('the daemon watches as many directories as it may');
    }
    // Not persistent: watches never keep the daemon running.
    const w = watch(path, { persistent: false }, (type) => {
      this.#counted();
      j.dirty = true;
      if (type === 'rename') j.structural = true;
    });
    w.on('error', () => {
      j.dirty = true;
      j.structural = true;
    });
    j.watchers.push(w);
    this.#watches++;
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
    else void this.#barrier().then(close, close);
  }

  /** One more event in this read of the queue; a burst this large may have overflowed it. */
  #counted(): void {
    if (this.#burst++ === 0) setImmediate(() => { this.#burst = 0; });
    if (this.#burst >= this.#burstLimit) {
      for (const j of this.#journals.values()) {
        j.dirty = true;
        j.structural = true;
      }
    }
  }

  /**
   * Resolves true once every inotify event queued before this call has been delivered; false when
   * that could not be seen in time (or the barrier directory is unusable): nothing is vouched for.
   */
  async #barrier(): Promise<boolean> {
    try {
      return await this.#barrierOnce();
    } catch {
      return false;
    }
  }

  async #barrierOnce(): Promise<boolean> {
    if (this.#barrierWatcher === undefined) {
      mkdirSync(this.#dir, { recursive: true });
      for (const name of readdirSync(this.#dir)) rmSync(join(this.#dir, name), { force: true });
      this.#barrierWatcher = watch(this.#dir, { persistent: false }, (_type, name) => {
        this.#counted();
        const done = name === null ? undefined : this.#barriers.get(name);
        if (done !== undefined) {
          this.#barriers.delete(name as string);
          done(true);
        }
      });
      this.#barrierWatcher.on('error', () => {
        // The directory went away: the next barrier makes it again.
        this.#barrierWatcher?.close();
        this.#barrierWatcher = undefined;
      });
    }
    const name = `b${++this.#barrierSeq}`;
    let timer: NodeJS.Timeout | undefined;
    const seen = await new Promise<boolean>((resolve) => {
      this.#barriers.set(name, resolve);
      timer = setTimeout(() => { this.#barriers.delete(name); resolve(false); }, this.#barrierTimeoutMs);
      try {
        writeFileSync(join(this.#dir, name), '');
      } catch {
        this.#barriers.delete(name);
        resolve(false);
      }
    });
    clearTimeout(timer);
    rmSync(join(this.#dir, name), { force: true });
    return seen;
  }
}
