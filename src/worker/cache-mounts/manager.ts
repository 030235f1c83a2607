/**
 * The cache-mount manager on disk:
 *
 *   ROOT/cachemounts/<key>/meta.json          { id, seedKey, createdAt }; mtime = last use
 *                         instances/<n>/data/  the directories mounted (n = 0, 1, …)
 *                         locks/key.lock       shared by every lease, exclusive for remove/prune
 *                         locks/<n>.lock       shared (sharing=shared) or exclusive (private, locked)
 *
 * `<key>` hashes the id and the seed key. Lock files are never deleted, so every process always
 * locks the same inode; removing a cache removes meta.json and instances/ under the exclusive
 * key lock, and the next acquirer starts it afresh.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, chown, link, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CancelledError, TsbuildError, UserInputError, throwIfAborted } from '../../util/errors.js';
import { diskUsage } from './disk-usage.js';
import { lockFile } from './flock.js';
import type { FileLock, LockMode } from './flock.js';
import type {
  CacheMountAcquireOptions, CacheMountInfo, CacheMountLease, CacheMountManager, CacheMountPruneOptions,
} from './types.js';

/** BuildKit's default: a cache mount without id= is keyed by its target path. */
export function cacheMountId(id: string | undefined, target: string): string {
  return id !== undefined && id !== '' ? id : target;
}

interface Meta {
  readonly id: string;
  readonly seedKey: string | undefined;
  readonly createdAt: number;
}

export interface DiskCacheMountManagerOptions {
  /** The data root; caches live in ROOT/cachemounts. */
  readonly root: string;
}

function errnoCode(e: unknown): string | undefined {
  return (e as { code?: unknown }).code as string | undefined;
}

function keyFor(id: string, seedKey: string | undefined): string {
  return createHash('sha256').update(id).update('\0').update(seedKey ?? '').digest('hex').slice(0, 32);
}

function copyTree(from: string, to: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // cp -a keeps owners, modes, timestamps, links and xattrs, which a seeded cache must carry over.
    execFile('cp', ['-a', '--', `${from}/.`, to], { signal }, (err, _o, stderr) => {
      if (err === null) resolve();
      else if (signal.aborted) reject(new CancelledError(signal.reason));
      else reject(new TsbuildError('CACHE_MOUNT_SEED_FAILED', `seeding cache from ${from} failed: ${stderr.trim() || err.message}`, { cause: err }));
    });
  });
}

export class DiskCacheMountManager implements CacheMountManager {
  private readonly dir: string;

  constructor(opts: DiskCacheMountManagerOptions) {
    this.dir = join(opts.root, 'cachemounts');
  }

  async acquire(opts: CacheMountAcquireOptions): Promise<CacheMountLease> {
    throwIfAborted(opts.signal);
    if (opts.id === '') throw new UserInputError('INVALID_MOUNT', 'a cache mount needs an id or a target');
    const key = keyFor(opts.id, opts.seed?.key);
    const base = join(this.dir, key);
    await mkdir(join(base, 'locks'), { recursive: true });
    await mkdir(join(base, 'instances'), { recursive: true });
    const keyLock = await this.lock(join(base, 'locks', 'key.lock'), 'shared', true, opts.signal) as FileLock;
    try {
      await this.ensureMeta(base, opts);
      const { path, lock } = await this.pickInstance(base, opts);
      await this.touch(base);
      let released = false;
      return {
        id: opts.id,
        path,
        release: async () => {
          if (released) return;
          released = true;
          await this.touch(base).catch(() => undefined);
          await lock.release();
          await keyLock.release();
        },
      };
    } catch (e) {
      await keyLock.release();
      throw e;
    }
  }

  private async lock(path: string, mode: LockMode, wait: boolean, signal: AbortSignal): Promise<FileLock | undefined> {
    return lockFile(path, { mode, wait, signal });
  }

  private async ensureMeta(base: string, opts: CacheMountAcquireOptions): Promise<void> {
    const meta: Meta = { id: opts.id, seedKey: opts.seed?.key, createdAt: Date.now() };
    const tmp = join(base, `meta.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(tmp, JSON.stringify(meta));
    try {
      // link() never replaces: the first writer's meta wins, and it is never seen half-written.
      await link(tmp, join(base, 'meta.json'));
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw e;
    } finally {
      await unlink(tmp);
    }
  }

  private async instances(base: string): Promise<number[]> {
    const names = await readdir(join(base, 'instances'));
    return names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  }

  /** Chooses (or creates) the directory for this lease and locks it according to the sharing mode. */
  private async pickInstance(base: string, opts: CacheMountAcquireOptions): Promise<{ path: string; lock: FileLock }> {
    const mode: LockMode = opts.sharing === 'shared' ? 'shared' : 'exclusive';
    const lockPath = (n: number): string => join(base, 'locks', `${n}.lock`);
    const dataPath = (n: number): string => join(base, 'instances', String(n), 'data');
    for (;;) {
      throwIfAborted(opts.signal);
      const existing = await this.instances(base);
      if (opts.sharing === 'locked') {
        // One directory, one user at a time: wait for the first one. If two processes both create
        // a first directory, both then queue on the lowest-numbered one.
        const n = existing[0];
        if (n === undefined) {
          await this.createInstance(base, opts);
          continue;
        }
        const lock = await this.lock(lockPath(n), 'exclusive', true, opts.signal) as FileLock;
        return { path: dataPath(n), lock };
      }
      for (const n of existing) {
        const lock = await this.lock(lockPath(n), mode, false, opts.signal);
        if (lock !== undefined) return { path: dataPath(n), lock };
      }
      // Every directory is taken (or none exists yet): make another.
      const n = await this.createInstance(base, opts);
      // Shared users racing to create the first directory must still end up in the same one:
      // look again and take the lowest free one.
      if (opts.sharing === 'shared') continue;
      // A private user takes its own new directory, unless someone grabbed it first.
      const lock = await this.lock(lockPath(n), mode, false, opts.signal);
      if (lock !== undefined) return { path: dataPath(n), lock };
    }
  }

  /** Builds a new directory aside and renames it into place under the next free number. */
  private async createInstance(base: string, opts: CacheMountAcquireOptions): Promise<number> {
    const tmp = await mkdtemp(join(base, 'new-'));
    try {
      const data = join(tmp, 'data');
      await mkdir(data);
      if (opts.seed !== undefined) await copyTree(opts.seed.from, data, opts.signal);
      const seeded = opts.seed !== undefined;
      if (opts.mode !== undefined || !seeded) await chmod(data, opts.mode ?? 0o755);
      if (opts.uid !== undefined || opts.gid !== undefined || !seeded) {
        const st = await stat(data);
        await chown(data, opts.uid ?? (seeded ? st.uid : 0), opts.gid ?? (seeded ? st.gid : 0));
      }
      for (;;) {
        const existing = await this.instances(base);
        const n = (existing[existing.length - 1] ?? -1) + 1;
        try {
          // instances/<n> always holds data/, so rename cannot replace another process's new directory.
          await rename(tmp, join(base, 'instances', String(n)));
          return n;
        } catch (e) {
          if (errnoCode(e) !== 'ENOTEMPTY' && errnoCode(e) !== 'EEXIST') throw e;
        }
      }
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  private async touch(base: string): Promise<void> {
    const now = new Date();
    await utimes(join(base, 'meta.json'), now, now);
  }

  private async readMeta(base: string): Promise<Meta | undefined> {
    try {
      return JSON.parse(await readFile(join(base, 'meta.json'), 'utf8')) as Meta;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  private async keys(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => /^[0-9a-f]{32}$/.test(n));
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
  }

  private async info(key: string, signal: AbortSignal): Promise<CacheMountInfo | undefined> {
    const base = join(this.dir, key);
    const meta = await this.readMeta(base);
    if (meta === undefined) return undefined;
    const probe = await this.lock(join(base, 'locks', 'key.lock'), 'exclusive', false, signal);
    await probe?.release();
    const st = await stat(join(base, 'meta.json'));
    return {
      id: meta.id,
      key,
      seedKey: meta.seedKey ?? undefined,
      instances: (await this.instances(base)).length,
      sizeBytes: await diskUsage(join(base, 'instances'), signal),
      createdAt: meta.createdAt,
      lastUsedAt: st.mtimeMs,
      inUse: probe === undefined,
    };
  }

  async list(opts: { readonly signal: AbortSignal }): Promise<CacheMountInfo[]> {
    const out: CacheMountInfo[] = [];
    for (const key of await this.keys()) {
      const i = await this.info(key, opts.signal);
      if (i !== undefined) out.push(i);
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Removes one cache if nobody uses it; false when it is in use. */
  private async removeKey(key: string, signal: AbortSignal): Promise<boolean> {
    const base = join(this.dir, key);
    const lock = await this.lock(join(base, 'locks', 'key.lock'), 'exclusive', false, signal);
    if (lock === undefined) return false;
    try {
      await rm(join(base, 'meta.json'), { force: true });
      await rm(join(base, 'instances'), { recursive: true, force: true });
      for (const n of await readdir(base)) if (n.startsWith('new-')) await rm(join(base, n), { recursive: true, force: true });
      return true;
    } finally {
      await lock.release();
    }
  }

  async remove(id: string, opts: { readonly signal: AbortSignal }): Promise<boolean> {
    let found = false;
    for (const key of await this.keys()) {
      const meta = await this.readMeta(join(this.dir, key));
      if (meta?.id !== id) continue;
      found = true;
      if (!(await this.removeKey(key, opts.signal))) {
        throw new TsbuildError('CACHE_MOUNT_IN_USE', `cache mount ${id} is in use by a running build`);
      }
    }
    return found;
  }

  async prune(opts: CacheMountPruneOptions): Promise<CacheMountInfo[]> {
    const removed: CacheMountInfo[] = [];
    for (const info of await this.list(opts)) {
      if (info.inUse || (opts.filter !== undefined && !opts.filter(info))) continue;
      if (await this.removeKey(info.key, opts.signal)) removed.push(info);
    }
    return removed;
  }
}
