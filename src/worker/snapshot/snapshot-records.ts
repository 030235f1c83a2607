/** Reading a snapshot's metadata files. Pure reads: safe against concurrent writers. */
import { lstat, readlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { SnapshotInfo } from '../types.js';
import { readOptional } from './atomic-file.js';
import { SnapshotError, SnapshotErrorCode } from './errors.js';
import { assertSnapshotId } from './ids.js';
import type { Overlay2Layout } from './layout.js';
import type { ChainLayer } from './lower-plan.js';

export class SnapshotRecords {
  constructor(private readonly layout: Overlay2Layout) {}

  /** The snapshot's info, or undefined when it does not exist or is still being created. */
  async tryStat(id: string): Promise<SnapshotInfo | undefined> {
    assertSnapshotId(id);
    // Read in this order, link last: a concurrent remove renames the whole directory away, so a
    // missing `committed` marker only means "active" if the link file is still there afterwards.
    const committed = await readOptional(this.layout.file(id, 'committed'));
    const parent = await readOptional(this.layout.file(id, 'parent'));
    const linkStat = await lstat(this.layout.file(id, 'link')).catch(() => undefined);
    const link = await readOptional(this.layout.file(id, 'link'));
    if (link === undefined || linkStat === undefined) return undefined;
    return {
      id,
      kind: committed === undefined ? 'active' : 'committed',
      parent: parent?.trim() || undefined,
      link: link.trim(),
      createdAt: linkStat.mtimeMs,
    };
  }

  async stat(id: string): Promise<SnapshotInfo> {
    const info = await this.tryStat(id);
    if (!info) throw new SnapshotError(SnapshotErrorCode.notFound, `snapshot ${id} not found`);
    return info;
  }

  async committed(id: string, what: string): Promise<SnapshotInfo> {
    const info = await this.stat(id);
    if (info.kind !== 'committed') {
      throw new SnapshotError(SnapshotErrorCode.notCommitted, `${what}: snapshot ${id} is active; commit it first`);
    }
    return info;
  }

  /** The `lower` file's link names (without `l/`), nearest parent first; empty for a base. */
  async lowerLinks(id: string): Promise<string[]> {
    const lower = (await readOptional(this.layout.file(id, 'lower')))?.trim();
    if (!lower) return [];
    return lower.split(':').map((l) => (l.startsWith('l/') ? l.slice(2) : l));
  }

  /** The snapshot id a short link name points at. */
  async idOfLink(link: string): Promise<string> {
    const target = await readlink(this.layout.link(link));
    // ../<id>/diff
    return basename(dirname(target));
  }

  /** `[self, parent, …, base]` with link names, read from the `lower` file like Docker does. */
  async chainLayers(info: SnapshotInfo): Promise<ChainLayer[]> {
    const links = await this.lowerLinks(info.id);
    const ids = await Promise.all(links.map((l) => this.idOfLink(l)));
    return [{ id: info.id, link: info.link }, ...links.map((link, i) => ({ link, id: ids[i] ?? '' }))];
  }
}
