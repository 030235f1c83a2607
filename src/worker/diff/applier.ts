/** Layer tar → a new committed overlay2 snapshot. */
import type { Readable } from 'node:stream';
import type { AppliedLayer, ApplyOptions, LayerApplier, Snapshotter } from '../types.js';
import { extractLayer } from './extract-layer.js';

export interface Overlay2ApplierOptions {
  /** Where new snapshots are made (prepare → fill `upperDir` → commit). */
  readonly snapshotter: Pick<Snapshotter, 'prepare' | 'commit' | 'remove'>;
}

export class Overlay2Applier implements LayerApplier {
  private readonly snapshotter: Overlay2ApplierOptions['snapshotter'];

  constructor(opts: Overlay2ApplierOptions) {
    this.snapshotter = opts.snapshotter;
  }

  async apply(layer: AsyncIterable<Uint8Array> | Readable, opts: ApplyOptions = {}): Promise<AppliedLayer> {
    const signal = opts.signal;
    const active = await this.snapshotter.prepare({
      ...(opts.parent === undefined ? {} : { parent: opts.parent }),
      ...(signal === undefined ? {} : { signal }),
    });
    try {
      const r = await extractLayer({
        source: layer,
        dir: active.upperDir,
        unprivileged: opts.unprivileged ?? process.getuid?.() !== 0,
        ...(signal === undefined ? {} : { signal }),
      });
      await this.snapshotter.commit(active);
      return { id: active.id, diffId: r.diffId, uncompressedSize: r.uncompressedSize };
    } catch (e) {
      // A half-applied layer must not survive: nothing refers to it yet.
      await this.snapshotter.remove(active.id).catch(() => undefined);
      throw e;
    }
  }
}
