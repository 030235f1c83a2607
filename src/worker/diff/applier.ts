/** Layer tar → a new committed overlay2 snapshot. */
import type { Readable } from 'node:stream';
import type { AppliedLayer, ApplyOptions, LayerApplier, Snapshotter } from '../types.js';
import { LayerError } from './errors.js';
import { extractLayer } from './extract-layer.js';
import { withDefaultLimits } from './layer-limits.js';
import type { LayerLimits } from './layer-limits.js';

export interface Overlay2ApplierOptions {
  /** Where new snapshots are made (prepare → fill `upperDir` → commit). */
  readonly snapshotter: Pick<Snapshotter, 'prepare' | 'commit' | 'remove'>;
  /** Limits on each layer (bytes, entries, paths, xattrs); unset ones take DEFAULT_LAYER_LIMITS. */
  readonly limits?: Partial<LayerLimits>;
}

export class Overlay2Applier implements LayerApplier {
  private readonly snapshotter: Overlay2ApplierOptions['snapshotter'];
  readonly limits: LayerLimits;

  constructor(opts: Overlay2ApplierOptions) {
    this.snapshotter = opts.snapshotter;
    this.limits = withDefaultLimits(opts.limits);
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
        limits: this.limits,
        ...(signal === undefined ? {} : { signal }),
      });
      await this.snapshotter.commit(active);
      return { id: active.id, diffId: r.diffId, uncompressedSize: r.uncompressedSize };
    } catch (e) {
      // A half-applied layer must not survive: nothing refers to it yet.
      await this.snapshotter.remove(active.id).catch(() => undefined);
      throw e instanceof LayerError && opts.digest !== undefined ? e.inLayer(opts.digest) : e;
    }
  }
}
