/**
 * The ResultLoader of a build that imports cache: `remote:<n>` result ids (imported records the
 * solver decided to use) become local snapshots — downloading only the blobs the data root lacks —
 * and a local record, so the next build on this data root hits locally. Every other id goes to the
 * engine's snapshot loader. An imported result that cannot be rebuilt (blob gone, corrupt,
 * registry down) is reported as a warning and treated as missing: the solver runs the step.
 */
import type { RemoteRecordStore } from '../cache/remote/index.js';
import type { ProgressWriter } from '../progress/types.js';
import type { LoadOptions, Result, ResultLoader } from '../solver/types.js';
import { errorMessage } from '../util/errors.js';
import type { ChainMaterializer } from './chain-materialize.js';
import type { CacheStorage } from '../cache/cache-storage.js';

export interface RemoteLoaderOptions {
  /** The engine's loader (committed snapshots). */
  readonly base: ResultLoader;
  readonly store: RemoteRecordStore;
  readonly materializer: ChainMaterializer;
  readonly storage: CacheStorage;
  /** Where warnings about unusable imported results go. */
  readonly progress: ProgressWriter;
}

export class RemoteResultLoader implements ResultLoader {
  readonly #o: RemoteLoaderOptions;

  constructor(opts: RemoteLoaderOptions) {
    this.#o = opts;
  }

  async load(resultId: string, opts: LoadOptions): Promise<Result | undefined> {
    const { base, store, materializer, storage } = this.#o;
    const remote = store.remote(resultId);
    if (!remote) return base.load(resultId, opts);
    let top: string | undefined;
    try {
      top = await materializer.materialize(remote.chain, remote.source.fetcher, opts.signal);
    } catch (e) {
      // Only this build's own cancellation stops it; anything else costs the cached result only.
      if (opts.signal.aborted) throw e;
      this.#o.progress.write({
        type: 'warning',
        message: `cannot use the cached result of "${remote.entry.description}" from ${remote.source.name}: ${errorMessage(e)}; running the step instead`,
        timestamp: Date.now(),
      });
      return undefined;
    }
    const { entry } = remote;
    await storage.records.save({
      key: entry.key, output: entry.output, resultId: top ?? '', recordType: entry.recordType, description: entry.description, inputKeys: entry.inputs,
    }, { signal: opts.signal });
    return base.load(top ?? '', opts);
  }
}
