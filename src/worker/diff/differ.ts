/** Committed overlay2 snapshot → OCI layer tar stream. */
import { Readable, addAbortSignal } from 'node:stream';
import type { DiffOptions, LayerDiffer, Snapshotter } from '../types.js';
import { assertSnapshotId } from '../snapshot/ids.js';
import { layerTar } from './layer-tar.js';
import type { FileStat } from './tar-index.js';
import type { LayerWalks } from '../snapshot/diff-walk.js';

export interface Overlay2DifferOptions {
  /** `chain` gives the parents whose `diff/` dirs the copied-up-directory check compares with. */
  readonly snapshotter: Pick<Snapshotter, 'chain' | 'diffDir'>;
  /**
   * Walks of committed layers (the engine's: a new result's walk at commit, diff-walk.ts): a file
   * one of them saw is not looked up again when its tar entry is copied from an earlier blob.
   */
  readonly walks?: LayerWalks;
}

export class Overlay2Differ implements LayerDiffer {
  private readonly snapshotter: Overlay2DifferOptions['snapshotter'];
  private readonly walks: LayerWalks | undefined;

  constructor(opts: Overlay2DifferOptions) {
    this.snapshotter = opts.snapshotter;
    this.walks = opts.walks;
  }

  diff(id: string, opts: DiffOptions = {}): Readable {
    assertSnapshotId(id);
    const snapshotter = this.snapshotter;
    const walked = opts.reuse !== undefined ? this.walks?.get(id) : undefined;
    const known = walked ? (p: string): FileStat | undefined => {
      const e = walked.get(p);
      return e?.kind === 'file' ? e.facts : undefined;
    } : undefined;
    async function* tar(): AsyncGenerator<Buffer, void, undefined> {
      // SNAPSHOT_NOT_FOUND as a stream error rather than an empty layer.
      const chain = await snapshotter.chain(id);
      const lowerDirs = chain.slice(1).map((p) => snapshotter.diffDir(p));
      yield* layerTar(snapshotter.diffDir(id), { ...opts, lowerDirs, ...(known ? { known } : {}) });
    }
    const stream = Readable.from(tar(), { objectMode: false });
    return opts.signal ? addAbortSignal(opts.signal, stream) : stream;
  }
}
