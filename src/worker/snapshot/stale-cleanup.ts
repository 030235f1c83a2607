/**
 * Undoing what crashed processes left in `ROOT/overlay2`. Everything a process leaves behind is
 * named or tagged with its owner token (pid + start time), so a live process's work is never
 * touched: only owners that no longer run are cleaned up.
 */
import { lstat, readdir, readlink, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '../../util/errors.js';
import type { StaleCleanupReport } from '../types.js';
import { isErrno, readOptional } from './atomic-file.js';
import { isSnapshotId } from './ids.js';
import type { Overlay2Layout } from './layout.js';
import { unmount } from './mount-exec.js';
import type { MountRegistry } from './mount-registry.js';
import { mountPointsUnder } from './mount-table-proc.js';
import { ownerAlive } from './owner.js';
import { removeTree } from './remove-tree.js';
import type { SnapshotRecords } from './snapshot-records.js';

export interface StaleCleanupDeps {
  readonly layout: Overlay2Layout;
  readonly records: SnapshotRecords;
  /** The calling snapshotter's own mounts, never touched. */
  readonly ownMounts: MountRegistry;
  readonly signal: AbortSignal | undefined;
  /** Report what would be undone, change nothing. */
  readonly dryRun?: boolean;
}

interface Report {
  unmounted: string[];
  removedSnapshots: string[];
  removedLeftovers: string[];
}

/** `.tmp-<owner>-<id>` → owner. */
function ownerOfTempName(name: string, prefix: string): string {
  return name.slice(prefix.length, Math.max(prefix.length, name.length - 65));
}

async function ownerOfMount(layout: Overlay2Layout, mp: string): Promise<string | undefined> {
  const parts = mp.slice(layout.dir.length + 1).split('/');
  const [top, kind, token] = parts;
  if (top === undefined) return undefined;
  if (top.startsWith('.tmp-')) return ownerOfTempName(top, '.tmp-');
  if (top.startsWith('.trash-')) return ownerOfTempName(top, '.trash-');
  if (!isSnapshotId(top)) return undefined;
  if (kind === 'views' && token !== undefined) return token;
  if (kind === 'merged') {
    // Only an active snapshot's owner may have merged/ mounted; a committed one never does.
    if ((await readOptional(layout.file(top, 'committed'))) !== undefined) return '';
    return (await readOptional(layout.file(top, 'owner'))) ?? '';
  }
  return undefined;
}

export async function cleanupStale(deps: StaleCleanupDeps): Promise<StaleCleanupReport> {
  const { layout, signal } = deps;
  const dry = deps.dryRun === true;
  const report: Report = { unmounted: [], removedSnapshots: [], removedLeftovers: [] };

  // 1. Mounts of dead processes, deepest first (something bind-mounted into a rootfs goes first).
  const mounts = await mountPointsUnder(layout.dir);
  const staleRoots: string[] = [];
  for (const mp of [...mounts].reverse()) {
    const own = deps.ownMounts.keys().some((k) => mp === k || mp.startsWith(`${k}/`));
    if (own || staleRoots.some((r) => mp.startsWith(`${r}/`))) continue;
    const owner = await ownerOfMount(layout, mp);
    if (owner !== undefined && !ownerAlive(owner)) staleRoots.push(mp);
  }
  for (const mp of mounts) {
    if (staleRoots.some((r) => mp === r || mp.startsWith(`${r}/`))) {
      throwIfAborted(signal);
      if (!dry) await unmount(mp);
      report.unmounted.push(mp);
    }
  }

  // 2. Half-made, half-removed and orphaned snapshots.
  for (const name of await readdir(layout.dir)) {
    throwIfAborted(signal);
    const path = join(layout.dir, name);
    for (const prefix of ['.tmp-', '.trash-']) {
      if (name.startsWith(prefix) && !ownerAlive(ownerOfTempName(name, prefix))) {
        if (!dry) await removeTree(path);
        report.removedLeftovers.push(path);
      }
    }
    if (!isSnapshotId(name)) continue;
    const committed = (await readOptional(layout.file(name, 'committed'))) !== undefined;
    if (!committed && !ownerAlive((await readOptional(layout.file(name, 'owner'))) ?? '')) {
      if (!dry) await removeOrphan(layout, name);
      report.removedSnapshots.push(name);
      continue;
    }
    await tidySnapshot(layout, name, report, dry);
  }

  // 3. Links whose snapshot is gone (a crash between creating the link and the directory's end).
  for (const name of await readdirOptional(layout.linkDir)) {
    const link = layout.link(name);
    try {
      await stat(link);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
      if (!dry) await rm(link, { force: true });
      report.removedLeftovers.push(link);
    }
  }
  return report;
}

/** An active snapshot whose process died: nothing can ever commit it. */
async function removeOrphan(layout: Overlay2Layout, id: string): Promise<void> {
  const link = (await readOptional(layout.file(id, 'link')))?.trim();
  if (link) {
    // Only our own link: a torn link file must not make us delete another snapshot's link.
    const target = await readlink(layout.link(link)).catch(() => undefined);
    if (target === layout.linkTarget(id)) await rm(layout.link(link), { force: true });
  }
  const parent = (await readOptional(layout.file(id, 'parent')))?.trim();
  const trash = layout.trash('cleanup', id);
  try {
    await rename(layout.snapshot(id), trash);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return; // another process's cleanup got there first
    throw e;
  }
  if (parent && isSnapshotId(parent)) await rm(layout.childEntry(parent, id), { force: true });
  await removeTree(trash);
}

/** Stale markers, view mount points, copies and child entries inside a live snapshot. */
async function tidySnapshot(layout: Overlay2Layout, id: string, report: Report, dry: boolean): Promise<void> {
  const removing = await readOptional(layout.file(id, 'removing'));
  if (removing !== undefined && !ownerAlive(removing)) {
    if (!dry) await rm(layout.file(id, 'removing'), { force: true });
    report.removedLeftovers.push(layout.file(id, 'removing'));
  }
  for (const token of await readdirOptional(layout.viewsDir(id))) {
    if (ownerAlive(token)) continue;
    const dir = layout.view(id, token);
    try {
      if (dry) await lstat(dir);
      else await rmdir(dir);
      report.removedLeftovers.push(dir);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
  }
  for (const name of await readdirOptional(layout.snapshot(id))) {
    if (!name.startsWith('flat.tmp-')) continue;
    const owner = name.slice('flat.tmp-'.length).replace(/-[0-9a-f]{8}$/, '');
    if (ownerAlive(owner)) continue;
    const dir = join(layout.snapshot(id), name);
    if (!dry) await removeTree(dir);
    report.removedLeftovers.push(dir);
  }
  for (const child of await readdirOptional(layout.childrenDir(id))) {
    try {
      await lstat(layout.snapshot(child));
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
      if (!dry) await rm(layout.childEntry(id, child), { force: true });
      report.removedLeftovers.push(layout.childEntry(id, child));
    }
  }
}

async function readdirOptional(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return [];
    throw e;
  }
}
