/** Committed overlay2 snapshot → OCI layer tar stream. */
import { Readable, addAbortSignal } from 'node:stream';
import type { DiffOptions, LayerDiffer, Snapshotter } from '../types.js';
import { assertSnapshotId } from '../snapshot/ids.js';
import { layerTar } from './layer-tar.js';

export interface Overlay2DifferOptions {
  /** `chain` gives the parents whose `diff/` dirs the copied-up-directory check compares with. */
  readonly snapshotter: Pick<Snapshotter, 'chain' | 'diffDir'>;
}

export class Overlay2Differ implements LayerDiffer {
  private readonly snapshotter: Overlay2DifferOptions['snapshotter'];

  constructor(opts: Overlay2DifferOptions) {
    this.snapshotter = opts.snapshotter;
  }

  diff(id: string, opts: DiffOptions = {}): Readable {
    assertSnapshotId(id);
    const snapshotter = this.snapshotter;
    async function* tar(): AsyncGenerator<Buffer, void, undefined> {
      // SNAPSHOT_NOT_FOUND as a stream error rather than an empty layer.
      const chain = await snapshotter.chain(id);
      const lowerDirs = chain.slice(1).map((p) => snapshotter.diffDir(p));
      yield* layerTar(snapshotter.diffDir(id), { ...opts, lowerDirs });
    }
    const stream = Readable.from(tar(), { objectMode: false });
    return opts.signal ? addAbortSignal(opts.signal, stream) : stream;
  }
}
