/**
 * What each layer of a built image holds and how much of it a later layer hides: a file of layer N
 * that a later layer replaces, deletes (a whiteout) or buries under a replaced parent still ships in
 * layer N's blob, so `RUN rm /big` in its own layer saves nothing. Read from the snapshots' own
 * changes (overlay `diff/` directories: a whiteout is a 0:0 character device), bottom layer first,
 * at the end of a build, and stored with the build's history so reports need no engine.
 * Sizes count file content as `docker history` and `tsbuild inspect` do (Docker's DiffSize): regular
 * files' bytes, hard links to one file once per layer, plus each symlink's target length;
 * directories and metadata count 0. `files` counts regular files.
 * An opaque directory (overlay's `trusted.overlay.opaque=y`, what `rm -rf d && mkdir d` in a RUN
 * or a layer's `.wh..wh..opq` makes) hides every lower file under it: those bytes are wasted too.
 *
 * A committed snapshot never changes and neither does its chain, so a warm engine keeps the
 * figures by top snapshot (`LayerUsageCache`): a no-op rebuild ends on the same snapshot as the
 * build before it and would otherwise walk every file of every layer again. It keeps each layer's
 * walk too (by snapshot id; ids are random and never reused), so a build that changed its last
 * steps walks only their new layers, not the base image's and the unchanged steps' again.
 */
import type { Snapshotter } from '../worker/types.js';
import type { LayerUsage } from '../cache/types.js';
import { throwIfAborted } from '../util/errors.js';
import { DiffWalkCache, walkDiff, type LayerWalks } from '../worker/snapshot/diff-walk.js';

/** The layers of `snapshot`'s chain, bottom first. */
export async function layerUsage(snapshotter: Pick<Snapshotter, 'chain' | 'diffDir'>, snapshot: string, signal: AbortSignal, walks?: LayerWalks): Promise<LayerUsage[]> {
  const chain = [...(await snapshotter.chain(snapshot))].reverse();
  /** The files visible so far: path → the layer that holds it and its size. */
  const live = new Map<string, { layer: number; size: number }>();
  /**
   * Directories seen and not replaced since: only under one of them can a live file sit (a layer
   * holds the parents of what it changes), so only replacing one needs the scan below.
   */
  const dirs = new Set<string>();
  const out: { size: number; files: number; wastedBytes: number }[] = [];
  for (const [n, id] of chain.entries()) {
    throwIfAborted(signal);
    let entries = walks?.get(id);
    if (entries === undefined) {
      entries = (await walkDiff(snapshotter.diffDir(id), signal)).entries;
      walks?.set(id, entries);
    }
    const mine = { size: 0, files: 0, wastedBytes: 0 };
    out.push(mine);
    const hide = (path: string, self: boolean): void => {
      const hit = live.get(path);
      if (hit) {
        live.delete(path);
        const l = out[hit.layer];
        if (l) l.wastedBytes += hit.size;
      }
      if (self || !dirs.has(path)) return;
      const prefix = `${path}/`;
      for (const [p, f] of live) {
        if (!p.startsWith(prefix)) continue;
        live.delete(p);
        const l = out[f.layer];
        if (l) l.wastedBytes += f.size;
      }
      dirs.delete(path);
      for (const d of dirs) if (d.startsWith(prefix)) dirs.delete(d);
    };
    for (const [path, e] of entries) {
      // A directory over a lower directory merges with it, unless it is opaque; anything else
      // replaces what was there.
      if (e.kind === 'dir') {
        hide(path, !e.opaque);
        dirs.add(path);
        continue;
      }
      hide(path, false);
      if (e.kind === 'file' || e.kind === 'symlink') {
        mine.size += e.size;
        if (e.kind === 'file') mine.files++;
        live.set(path, { layer: n, size: e.size });
      }
    }
  }
  return out;
}

/** Top snapshots whose figures are kept (a few per Dockerfile a warm daemon builds). */
const CACHED_TOPS = 64;

/** `layerUsage` by top snapshot id, the least recently used dropped beyond `max`. */
export class LayerUsageCache {
  readonly #byTop = new Map<string, readonly LayerUsage[]>();
  readonly #max: number;
  readonly #walks: LayerWalks;

  /**
   * `walks`: the layer walks to read and fill (the engine's, which new results' walks at commit
   * also fill: src/worker/ops/context.ts); default a cache of this one's own.
   */
  constructor(opts: { readonly max?: number; readonly maxWalkEntries?: number; readonly walks?: LayerWalks } = {}) {
    this.#max = opts.max ?? CACHED_TOPS;
    this.#walks = opts.walks ?? new DiffWalkCache(opts.maxWalkEntries);
  }

  /** The figures of `snapshot`'s chain (a committed snapshot: its layers never change). */
  async get(snapshotter: Pick<Snapshotter, 'chain' | 'diffDir'>, snapshot: string, signal: AbortSignal): Promise<readonly LayerUsage[]> {
    const hit = this.#byTop.get(snapshot);
    if (hit) {
      this.#byTop.delete(snapshot);
      this.#byTop.set(snapshot, hit);
      return hit;
    }
    const usage = await layerUsage(snapshotter, snapshot, signal, this.#walks);
    this.#byTop.set(snapshot, usage);
    for (const old of this.#byTop.keys()) {
      if (this.#byTop.size <= this.#max) break;
      this.#byTop.delete(old);
    }
    return usage;
  }
}
