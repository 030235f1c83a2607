/**
 * Reading a snapshot's metadata files. Pure reads: safe against concurrent writers.
 *
 * A committed snapshot's files (parent, link, lower) never change until it is removed, and ids are
 * never reused, so what they say is remembered: a later stat only checks that the snapshot is still
 * there (one lstat of its link file, which is also where its creation time comes from) instead of
 * reading four files, and its chain is not read again. Another process on the data root may remove
 * a snapshot at any time; that check sees it. Active snapshots are always read afresh.
 */
import { lstatSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { SnapshotInfo } from '../types.js';
import { readOptional } from './atomic-file.js';
import { SnapshotError, SnapshotErrorCode } from './errors.js';
import { assertSnapshotId } from './ids.js';
import type { Overlay2Layout } from './layout.js';
import type { ChainLayer } from './lower-plan.js';

/** What a committed snapshot's files say (they never change while it exists). */
interface CommittedFacts {
  readonly parent: string | undefined;
  readonly link: string;
  /** The link file's mtime: written once, when the snapshot was prepared. */
  readonly createdAt: number;
  chain?: readonly ChainLayer[];
}

/** Remembered snapshots at most; past it the memory starts over (a data root rarely holds this many). */
const MAX_REMEMBERED = 100_000;

function committedInfo(id: string, known: CommittedFacts): SnapshotInfo {
  return { id, kind: 'committed', parent: known.parent, link: known.link, createdAt: known.createdAt };
}

export class SnapshotRecords {
  readonly #committed = new Map<string, CommittedFacts>();

  constructor(private readonly layout: Overlay2Layout) {}

  /** Drops what is remembered of a snapshot (this process is removing it). */
  forget(id: string): void {
    this.#committed.delete(id);
  }

  /** The snapshot's info, or undefined when it does not exist or is still being created. */
  async tryStat(id: string): Promise<SnapshotInfo | undefined> {
    assertSnapshotId(id);
    const known = this.#committed.get(id);
    if (known !== undefined) {
      // Synchronous: one lstat, where a thread-pool trip costs more CPU than the call, and a daemon
      // build checks every snapshot of the store several times (listing, export; issue 10).
      let st;
      try {
        st = lstatSync(this.layout.file(id, 'link'), { throwIfNoEntry: false });
      } catch {
        st = undefined;
      }
      if (st !== undefined) return committedInfo(id, known);
      // Removed (by another process, or by this one since): read afresh, as if never seen.
      this.#committed.delete(id);
    }
    // Read in this order, link last: a concurrent remove renames the whole directory away, so a
    // missing `committed` marker only means "active" if the link file is still there afterwards.
    const committed = await readOptional(this.layout.file(id, 'committed'));
    const parent = await readOptional(this.layout.file(id, 'parent'));
    let linkStat;
    try {
      linkStat = lstatSync(this.layout.file(id, 'link'), { throwIfNoEntry: false });
    } catch {
      linkStat = undefined;
    }
    const link = await readOptional(this.layout.file(id, 'link'));
    if (link === undefined || linkStat === undefined) return undefined;
    const info: SnapshotInfo = {
      id,
      kind: committed === undefined ? 'active' : 'committed',
      parent: parent?.trim() || undefined,
      link: link.trim(),
      createdAt: linkStat.mtimeMs,
    };
    if (info.kind === 'committed') {
      if (this.#committed.size >= MAX_REMEMBERED) this.#committed.clear();
      this.#committed.set(id, { parent: info.parent, link: info.link, createdAt: info.createdAt });
    }
    return info;
  }

  /**
   * tryStat for a name a directory listing just returned: a remembered committed snapshot is
   * answered from memory, without the lstat that checks it is still there (the listing just saw
   * it; a removal renames the whole directory away first). A garbage walk lists every snapshot.
   */
  async listed(id: string): Promise<SnapshotInfo | undefined> {
    const known = this.#committed.get(id);
    return known !== undefined ? committedInfo(id, known) : this.tryStat(id);
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
    // A committed snapshot's chain is fixed, and its layers stay while it does (a snapshot with
    // children cannot be removed).
    const known = info.kind === 'committed' ? this.#committed.get(info.id) : undefined;
    if (known?.chain !== undefined) return [...known.chain];
    // A new layer on a parent whose chain is known: its `lower` file is the parent's link and the
    // parent's `lower`, so its chain is itself and the parent's. Spares reading the file and one
    // readlink per layer through the thread pool (a 14-layer chain, for every step a build commits:
    // its layer tar, the history's usage and the export each ask; issue 14, s14-steps).
    const above = known?.parent !== undefined ? this.#committed.get(known.parent)?.chain : undefined;
    if (known !== undefined && above !== undefined) {
      known.chain = [{ id: info.id, link: info.link }, ...above];
      return [...known.chain];
    }
    const links = await this.lowerLinks(info.id);
    const ids = await Promise.all(links.map((l) => this.idOfLink(l)));
    const chain = [{ id: info.id, link: info.link }, ...links.map((link, i) => ({ link, id: ids[i] ?? '' }))];
    if (known !== undefined) known.chain = chain;
    return [...chain];
  }
}
