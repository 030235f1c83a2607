/**
 * A snapshot inventory over plain directories (<dir>/<id>/data, <dir>/<id>/parent), standing in
 * for the overlay2 snapshotter the way the solver's tests use fake ops: real files, real sizes,
 * and the same rule the snapshotter enforces (no removing a snapshot that has children).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FootprintOptions, SnapshotEntry, SnapshotInventory } from '../../../src/cache/types.js';
import { treeUsage } from '../../../src/util/tree-usage.js';

export class DirInventory implements SnapshotInventory {
  readonly dir: string;
  /** Ids passed to remove(), in order. */
  readonly removed: string[] = [];

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates a snapshot holding `bytes` bytes of data on `parent`. */
  async create(opts: { readonly id?: string; readonly parent?: string; readonly bytes?: number } = {}): Promise<string> {
    const id = opts.id ?? randomBytes(32).toString('hex');
    await mkdir(join(this.dir, id, 'data'), { recursive: true });
    await writeFile(join(this.dir, id, 'data', 'blob'), Buffer.alloc(opts.bytes ?? 0, 7));
    await writeFile(join(this.dir, id, 'parent'), opts.parent ?? '');
    return id;
  }

  async exists(id: string): Promise<boolean> {
    try {
      await stat(join(this.dir, id, 'parent'));
      return true;
    } catch {
      return false;
    }
  }

  async remove(id: string): Promise<void> {
    const kids = (await this.list()).filter((s) => s.parent === id);
    if (kids.length > 0) throw Object.assign(new Error(`snapshot ${id} has children`), { code: 'SNAPSHOT_HAS_CHILDREN' });
    this.removed.push(id);
    await rm(join(this.dir, id), { recursive: true, force: true });
  }

  async usage(id: string): Promise<{ bytes: number }> {
    let bytes = 0;
    for (const f of await readdir(join(this.dir, id, 'data'))) bytes += (await stat(join(this.dir, id, 'data', f))).size;
    return { bytes };
  }

  async list(): Promise<SnapshotEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: SnapshotEntry[] = [];
    for (const id of names.sort()) {
      try {
        const p = (await readFile(join(this.dir, id, 'parent'), 'utf8')).trim();
        out.push({ id, parent: p === '' ? undefined : p });
      } catch {
        // half-created; not a snapshot
      }
    }
    return out;
  }

  /** Everything under the directory (known sizes are not used: the data is small). */
  async footprint(opts: FootprintOptions): Promise<{ bytes: number }> {
    return treeUsage(this.dir, opts.signal ? { signal: opts.signal } : {});
  }

  /** Plain directories leave nothing half-made behind. */
  async leftovers(): Promise<string[]> {
    return [];
  }

  async removeLeftovers(): Promise<string[]> {
    return [];
  }
}
