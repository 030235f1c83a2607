/**
 * MergeOp (COPY --link): the union of its inputs' filesystems, later inputs on top. The first
 * input is the base snapshot; each further input's filesystem is copied onto it, so the result's own
 * layer holds exactly what the linked copy added.
 */
import type { LLBVertex, PbMergeOp } from '../../llb/types.js';
import type { CacheMap, Op, OpContext, Result } from '../../solver/types.js';
import { opCacheDigest } from '../../llb/cache-digest.js';
import { runFileAction } from '../fileop/file-action.js';
import { snapshotOf } from './worker-result.js';
import { snapshotResult, withReadRoot, type OpDeps } from './context.js';

export class MergeOpImpl implements Op {
  constructor(
    private readonly v: LLBVertex,
    private readonly merge: PbMergeOp,
    private readonly deps: OpDeps,
  ) {}

  async cacheMap(): Promise<CacheMap> {
    return { digest: opCacheDigest(this.v), deps: [] };
  }

  async exec(ctx: OpContext, inputs: readonly Result[]): Promise<Result[]> {
    const s = this.deps.services;
    const signal = ctx.signal;
    const order = this.merge.inputs.map((m) => inputs[m.input]).filter((r): r is Result => r !== undefined);
    const [first, ...rest] = order;
    const parent = first ? snapshotOf(first, 'merge') : undefined;
    const active = await s.snapshotter.prepare({ signal, ...(parent ? { parent } : {}) });
    let committed = false;
    try {
      await s.snapshotter.withMount(
        active,
        async (dest) => {
          for (const r of rest) {
            await withReadRoot(
              this.deps,
              r,
              (src) =>
                runFileAction(
                  { kind: 'copy', copy: { src: '/', dest: '/', dirCopyContents: true, createDestPath: true, alwaysReplaceExistingDestPaths: true } },
                  { destRoot: dest, srcRoot: src, signal },
                ),
              signal,
            );
          }
        },
        { signal },
      );
      await s.snapshotter.commit(active, { signal });
      committed = true;
      return [await snapshotResult(this.deps, active.id, parent, signal)];
    } finally {
      if (!committed) await s.snapshotter.remove(active.id).catch(() => undefined);
    }
  }
}
