/** Turns cache records back into results: a committed snapshot that still exists, held by a ref. */
import type { LoadOptions, Result, ResultLoader } from '../../solver/types.js';
import { isTsbuildError } from '../../util/errors.js';
import { WorkerResult } from './worker-result.js';
import type { WorkerServices } from './context.js';

export class SnapshotResultLoader implements ResultLoader {
  constructor(private readonly services: WorkerServices) {}

  async load(resultId: string, opts: LoadOptions): Promise<Result | undefined> {
    if (resultId === '') return WorkerResult.create({ kind: 'scratch' });
    const s = this.services;
    let parent: string | undefined;
    try {
      const info = await s.snapshotter.stat(resultId);
      if (info.kind !== 'committed') return undefined;
      parent = info.parent;
    } catch {
      return undefined;
    }
    try {
      const lease = await s.storage.refs.acquire(resultId, s.holder, { signal: opts.signal, ...(parent ? { parent } : {}) });
      return WorkerResult.create({ kind: 'snapshot', id: resultId }, { lease });
    } catch (e) {
      if (isTsbuildError(e) && e.code === 'CACHE_RESULT_PRUNED') return undefined;
      throw e;
    }
  }
}
