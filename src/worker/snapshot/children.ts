/**
 * Parent/child bookkeeping between processes: a parent is never deleted under a new child.
 *
 * `prepare` creates the child's directory, then `parent/children/<child>`, then checks the parent
 * is neither being removed nor gone. `remove` writes its `removing` marker first, then lists the
 * children. Whichever of the two runs second sees the other.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { createExclusive, isErrno, readOptional } from './atomic-file.js';
import { SnapshotError, SnapshotErrorCode } from './errors.js';
import { isSnapshotId } from './ids.js';
import type { Overlay2Layout } from './layout.js';
import { ownerAlive } from './owner.js';

/**
 * Records `child` under `parent/children/` before checking that no remove of the parent is in
 * progress; remove() writes its marker before listing children. Whichever runs second sees the
 * other, so a parent is never deleted under a new child.
 */
export async function registerChild(layout: Overlay2Layout, parent: string, child: string): Promise<void> {
  const entry = layout.childEntry(parent, child);
  try {
    // No mkdir -p here: it would recreate a parent that a concurrent remove just renamed away.
    await createExclusive(entry, '');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw new SnapshotError(SnapshotErrorCode.notFound, `prepare: parent snapshot ${parent} was removed`);
    throw e;
  }
  const holder = await readOptional(layout.file(parent, 'removing'));
  // A remove that renamed the parent away after listing children leaves no marker to see, but
  // then the parent's files are gone too.
  const stillThere = (await readOptional(layout.file(parent, 'link'))) !== undefined;
  if ((holder !== undefined && ownerAlive(holder)) || !stillThere) {
    await rm(entry, { force: true });
    throw new SnapshotError(stillThere ? SnapshotErrorCode.busy : SnapshotErrorCode.notFound,
      stillThere ? `prepare: parent snapshot ${parent} is being removed` : `prepare: parent snapshot ${parent} was removed`);
  }
}

/** Children entries whose snapshot directory exists; entries of vanished children are dropped. */
export async function liveChildren(layout: Overlay2Layout, id: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(layout.childrenDir(id));
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
  const live: string[] = [];
  for (const child of names) {
    if (!isSnapshotId(child)) continue;
    try {
      await lstat(layout.snapshot(child));
      live.push(child);
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
      // The child directory is created before its entry and renamed away before the entry is
      // dropped, so an entry without a directory is left over from a crash.
      await rm(layout.childEntry(id, child), { force: true });
    }
  }
  return live;
}
