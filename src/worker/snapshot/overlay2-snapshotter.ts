/**
 * The overlay2 snapshotter: Docker's overlay2 directory layout (see layout.ts), safe for several
 * processes on one data root, every mount undone on success, failure and cancellation.
 */
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { CancelledError, throwIfAborted } from '../../util/errors.js';
import type {
  ActiveSnapshot,
  GraphDriverData,
  MountOptions,
  MountRef,
  PrepareOptions,
  SnapshotInfo,
  SnapshotOpOptions,
  Snapshotter,
  SnapshotUsage,
  StaleCleanupOptions,
  StaleCleanupReport,
  FootprintOptions,
} from '../types.js';
import { createExclusive, isErrno, readOptional, writeFileAtomic } from './atomic-file.js';
import { diskUsage } from './disk-usage.js';
import { SnapshotError, SnapshotErrorCode } from './errors.js';
import { assertSnapshotId, isSnapshotId, newLinkName, newSnapshotId } from './ids.js';
import { footprint } from './footprint.js';
import { Overlay2Layout } from './layout.js';
import { unmount } from './mount-exec.js';
import { MountRegistry } from './mount-registry.js';
import { isMountPoint, mountPointsUnder } from './mount-table-proc.js';
import { formatOwner, newOwnerToken, ownerAlive } from './owner.js';
import { KERNEL_MAX_LOWERS } from './overlay-options.js';
import { removeTree } from './remove-tree.js';
import { SnapshotMounter } from './snapshot-mounter.js';
import { SnapshotRecords } from './snapshot-records.js';
import { cleanupStale } from './stale-cleanup.js';
import { liveChildren, registerChild } from './children.js';

export interface Overlay2SnapshotterOptions {
  /** The data root (`--root`); snapshots live in `<root>/overlay2`. */
  readonly root: string;
  /**
   * Most lower directories one mount stacks before older layers are read from a flattened copy.
   * Default 500, the kernel's limit. Lower values only make sense in tests.
   */
  readonly maxLowerDirs?: number;
}

export class Overlay2Snapshotter implements Snapshotter {
  readonly layout: Overlay2Layout;
  private readonly records: SnapshotRecords;
  private readonly mounts = new MountRegistry();
  private readonly owner = formatOwner(newOwnerToken());
  private readonly mounter: SnapshotMounter;

  constructor(opts: Overlay2SnapshotterOptions) {
    this.layout = new Overlay2Layout(opts.root);
    this.records = new SnapshotRecords(this.layout);
    this.mounter = new SnapshotMounter({
      layout: this.layout,
      records: this.records,
      owner: this.owner,
      maxLowers: Math.min(opts.maxLowerDirs ?? KERNEL_MAX_LOWERS, KERNEL_MAX_LOWERS),
      withView: (vid, fn, sig) => this.withView(vid, fn, sig === undefined ? {} : { signal: sig }),
    });
  }

  // ── lifecycle ──────────────────────────────────────────────────────────────────────────────────

  async prepare(opts: PrepareOptions = {}): Promise<ActiveSnapshot> {
    throwIfAborted(opts.signal);
    await this.mounter.ensureDirs();
    let lower = '';
    if (opts.parent !== undefined) {
      const p = await this.records.committed(opts.parent, 'prepare');
      const pl = (await readOptional(this.layout.file(p.id, 'lower')))?.trim();
      lower = pl ? `l/${p.link}:${pl}` : `l/${p.link}`;
    }
    const id = newSnapshotId();
    // Built under a temporary name so that `<id>/` always has its owner file.
    const tmp = this.layout.tmp(this.owner, id);
    // Synchronous, as atomic-file.ts's calls are: a few microseconds each, no thread-pool queue.
    mkdirSync(tmp, { mode: 0o701 });
    let registered = false;
    let linkName: string | undefined;
    try {
      await writeFileAtomic(`${tmp}/owner`, this.owner);
      mkdirSync(`${tmp}/diff`, { mode: 0o755 });
      mkdirSync(`${tmp}/work`, { mode: 0o700 });
      mkdirSync(`${tmp}/merged`, { mode: 0o700 });
      mkdirSync(`${tmp}/children`, { mode: 0o700 });
      if (opts.parent !== undefined) {
        await writeFileAtomic(`${tmp}/parent`, opts.parent);
        await writeFileAtomic(`${tmp}/lower`, lower);
      }
      renameSync(tmp, this.layout.snapshot(id));
      if (opts.parent !== undefined) {
        await registerChild(this.layout, opts.parent, id);
        registered = true;
      }
      throwIfAborted(opts.signal);
      linkName = await this.createLink(id);
      await writeFileAtomic(this.layout.file(id, 'link'), linkName);
    } catch (e) {
      if (linkName !== undefined) await rm(this.layout.link(linkName), { force: true });
      if (registered && opts.parent !== undefined) await rm(this.layout.childEntry(opts.parent, id), { force: true });
      await removeTree(tmp);
      await removeTree(this.layout.snapshot(id));
      throw e;
    }
    return this.activeOf(id, opts.parent);
  }

  async commit(active: ActiveSnapshot | string, opts: SnapshotOpOptions = {}): Promise<string> {
    throwIfAborted(opts.signal);
    const id = typeof active === 'string' ? active : active.id;
    const info = await this.records.stat(id);
    if (info.kind !== 'active') throw new SnapshotError(SnapshotErrorCode.notActive, `commit: snapshot ${id} is already committed`);
    if (this.mounts.has(this.layout.merged(id)) || (await isMountPoint(this.layout.merged(id)))) {
      throw new SnapshotError(SnapshotErrorCode.inUse, `commit: snapshot ${id} is still mounted; release it first`);
    }
    await writeFileAtomic(this.layout.file(id, 'committed'), new Date().toISOString());
    // Synchronous, as the other metadata files (atomic-file.ts): every step's commit is on its
    // critical path, and this trip waited behind the layer tars' writes and fsyncs.
    rmSync(this.layout.file(id, 'owner'), { force: true });
    return id;
  }

  async remove(id: string, opts: SnapshotOpOptions = {}): Promise<void> {
    throwIfAborted(opts.signal);
    const info = await this.records.stat(id);
    if (this.mounts.hasUnder(this.layout.snapshot(id))) {
      throw new SnapshotError(SnapshotErrorCode.inUse, `remove: snapshot ${id} is mounted; release it first`);
    }
    if (info.kind === 'active' && (await readOptional(this.layout.file(id, 'owner'))) === this.owner) {
      // Our own unfinished snapshot: nobody else may touch it, so no removal marker is needed —
      // which matters on a full disk, where writing one fails (ENOSPC) and the half-written
      // snapshot would otherwise stay until the next start's recovery.
      await this.discard(id, info.link, info.parent);
      return;
    }
    const marker = this.layout.file(id, 'removing');
    if (!(await createExclusive(marker, this.owner))) {
      const holder = (await readOptional(marker)) ?? '';
      if (ownerAlive(holder)) throw new SnapshotError(SnapshotErrorCode.busy, `remove: snapshot ${id} is being removed by another process`);
      await writeFileAtomic(marker, this.owner);
    }
    try {
      const children = await liveChildren(this.layout, id);
      if (children.length > 0) {
        throw new SnapshotError(SnapshotErrorCode.hasChildren,
          `remove: snapshot ${id} has ${children.length} child snapshot(s) (e.g. ${children[0] ?? ''}); remove them first`);
      }
      await this.unmountStaleUnder(id);
    } catch (e) {
      await rm(marker, { force: true });
      throw e;
    }
    await this.discard(id, info.link, info.parent);
  }

  /** Unlinks a snapshot nothing may use any more: its link, the directory (via trash), its child entry. */
  private async discard(id: string, link: string, parent: string | undefined): Promise<void> {
    this.records.forget(id);
    await rm(this.layout.link(link), { force: true });
    const trash = this.layout.trash(this.owner, id);
    await rename(this.layout.snapshot(id), trash);
    if (parent !== undefined) await rm(this.layout.childEntry(parent, id), { force: true });
    await removeTree(trash);
  }

  // ── mounts ─────────────────────────────────────────────────────────────────────────────────────

  async view(id: string, opts: SnapshotOpOptions = {}): Promise<MountRef> {
    throwIfAborted(opts.signal);
    const info = await this.records.committed(id, 'view');
    const target = this.layout.view(id, this.owner);
    const release = await this.mounts.acquire(target, this.mounter.viewActions(info, target, opts.signal));
    return this.refAfterAbortCheck(target, 'ro', release, opts.signal);
  }

  async mount(active: ActiveSnapshot | string, opts: MountOptions = {}): Promise<MountRef> {
    throwIfAborted(opts.signal);
    const id = typeof active === 'string' ? active : active.id;
    const info = await this.records.stat(id);
    if (info.kind !== 'active') {
      throw new SnapshotError(SnapshotErrorCode.notActive, `mount: snapshot ${id} is committed; use view() for a read-only mount`);
    }
    const target = this.layout.merged(id);
    const release = await this.mounts.acquire(target, this.mounter.activeActions(info, target, opts.containerRoot ?? false, opts.signal));
    return this.refAfterAbortCheck(target, 'rw', release, opts.signal);
  }

  async withView<T>(id: string, fn: (root: string) => Promise<T>, opts: SnapshotOpOptions = {}): Promise<T> {
    const ref = await this.view(id, opts);
    try {
      return await fn(ref.path);
    } finally {
      await ref.release();
    }
  }

  async withMount<T>(active: ActiveSnapshot | string, fn: (root: string) => Promise<T>, opts: SnapshotOpOptions = {}): Promise<T> {
    const ref = await this.mount(active, opts);
    try {
      return await fn(ref.path);
    } finally {
      await ref.release();
    }
  }

  // ── queries ────────────────────────────────────────────────────────────────────────────────────

  async usage(id: string, opts: SnapshotOpOptions = {}): Promise<SnapshotUsage> {
    await this.records.stat(id);
    return diskUsage(this.layout.diff(id), opts.signal);
  }

  async parent(id: string): Promise<string | undefined> {
    return (await this.records.stat(id)).parent;
  }

  async chain(id: string): Promise<readonly string[]> {
    const info = await this.records.stat(id);
    return (await this.records.chainLayers(info)).map((l) => l.id);
  }

  async stat(id: string): Promise<SnapshotInfo> {
    return this.records.stat(id);
  }

  async list(): Promise<readonly SnapshotInfo[]> {
    // Listing makes nothing: a data root that never held a snapshot keeps no overlay2/.
    let names: string[];
    try {
      names = (await readdir(this.layout.dir)).filter(isSnapshotId).sort();
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return [];
      throw e;
    }
    const infos = await Promise.all(names.map((n) => this.records.listed(n)));
    return infos.filter((i): i is SnapshotInfo => i !== undefined);
  }

  diffDir(id: string): string {
    assertSnapshotId(id);
    return this.layout.diff(id);
  }

  async graphDriverData(id: string): Promise<GraphDriverData> {
    const info = await this.records.stat(id);
    const layers = await this.records.chainLayers(info);
    const base = {
      UpperDir: this.layout.diff(id),
      MergedDir: this.layout.merged(id),
      WorkDir: this.layout.work(id),
    };
    if (layers.length === 1) return base;
    return { LowerDir: layers.slice(1).map((l) => this.layout.diff(l.id)).join(':'), ...base };
  }

  async cleanupStale(opts: StaleCleanupOptions = {}): Promise<StaleCleanupReport> {
    if (!(await stat(this.layout.dir).then(() => true, (e: unknown) => (isErrno(e, 'ENOENT') ? false : Promise.reject(e))))) {
      return { unmounted: [], removedSnapshots: [], removedLeftovers: [] };
    }
    if (opts.dryRun !== true) await this.mounter.ensureDirs();
    return cleanupStale({ layout: this.layout, records: this.records, ownMounts: this.mounts, signal: opts.signal, dryRun: opts.dryRun === true });
  }

  footprint(opts: FootprintOptions): Promise<{ readonly bytes: number }> {
    return footprint(this.layout, opts.knownDiffBytes, opts.signal);
  }

  async close(): Promise<void> {
    await this.mounts.releaseAll((key) => ({ mount: () => Promise.resolve(), unmount: () => this.mounter.unmountAndTidy(key) }));
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────

  private activeOf(id: string, parent: string | undefined): ActiveSnapshot {
    return { id, parent, upperDir: this.layout.diff(id), workDir: this.layout.work(id), mergedDir: this.layout.merged(id) };
  }

  private async createLink(id: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const name = newLinkName();
      try {
        symlinkSync(this.layout.linkTarget(id), this.layout.link(name));
        return name;
      } catch (e) {
        if (!isErrno(e, 'EEXIST') || attempt > 100) throw e;
      }
    }
  }

  /** Mounts under the snapshot left by dead processes are undone; live ones make remove() fail. */
  private async unmountStaleUnder(id: string): Promise<void> {
    const dir = this.layout.snapshot(id);
    for (const mp of await mountPointsUnder(dir)) {
      const owner = mp.startsWith(`${this.layout.viewsDir(id)}/`)
        ? mp.slice(this.layout.viewsDir(id).length + 1).split('/')[0] ?? ''
        : ((await readOptional(this.layout.file(id, 'owner'))) ?? '');
      if (ownerAlive(owner)) throw new SnapshotError(SnapshotErrorCode.inUse, `remove: snapshot ${id} is mounted at ${mp} by a running process`);
      await unmount(mp);
    }
  }

  private async refAfterAbortCheck(path: string, access: 'ro' | 'rw', release: () => Promise<void>, signal: AbortSignal | undefined): Promise<MountRef> {
    if (signal?.aborted) {
      await release();
      throw new CancelledError(signal.reason);
    }
    return { path, access, release };
  }
}
