/** Errors of layer diff and apply. Codes are stable; callers match on them. */
import { TsbuildError } from '../../util/errors.js';
import type { TsbuildErrorOptions } from '../../util/errors.js';
import { displayPath } from '../snapshot/byte-path.js';

export const LayerErrorCode = {
  /** The tar stream is not a valid tar (checksum, numbers, truncation, oversized headers). */
  malformed: 'LAYER_MALFORMED',
  /** An entry would write outside the layer, or is not allowed (device node when unprivileged). */
  unsafe: 'LAYER_UNSAFE_ENTRY',
  /** Valid tar, but a feature tsbuild does not handle (sparse files, zstd, unknown entry types). */
  unsupported: 'LAYER_UNSUPPORTED',
  /** The layer is bigger than a configured limit (bytes, entries, path length or depth, xattr size). */
  limit: 'LAYER_LIMIT_EXCEEDED',
  /** The filesystem refused an otherwise valid entry (no space, name too long, …). */
  applyFailed: 'LAYER_APPLY_FAILED',
  /** Reading the snapshot for a diff failed (a file changed or vanished while being read). */
  diffFailed: 'LAYER_DIFF_FAILED',
} as const;

export type LayerErrorCode = (typeof LayerErrorCode)[keyof typeof LayerErrorCode];

export interface LayerErrorOptions extends TsbuildErrorOptions {
  /** The layer (its blob digest), when the caller knows it. */
  readonly layer?: string;
  /** The entry's name as it appears in the tar (a byte string). */
  readonly entry?: string;
  /** Byte offset of the entry's header in the uncompressed tar. */
  readonly offset?: number;
}

/**
 * `layer sha256:… entry "etc/passwd" (at byte 1536): <reason>` — one line naming what was
 * rejected (the digest only when known).
 */
export class LayerError extends TsbuildError {
  readonly layer: string | undefined;
  readonly entry: string | undefined;
  readonly offset: number | undefined;
  /** The message without the layer/entry prefix. */
  readonly reason: string;

  constructor(code: LayerErrorCode, reason: string, opts: LayerErrorOptions = {}) {
    const layer = opts.layer === undefined ? 'layer' : `layer ${opts.layer}`;
    const where = opts.entry === undefined ? layer : `${layer} entry ${JSON.stringify(displayPath(opts.entry))}`;
    const at = opts.offset === undefined ? '' : ` (at byte ${opts.offset})`;
    super(code, `${where}${at}: ${reason}`, opts);
    this.name = 'LayerError';
    this.layer = opts.layer;
    this.entry = opts.entry;
    this.offset = opts.offset;
    this.reason = reason;
  }

  /** The same error, naming the layer's digest. */
  inLayer(digest: string): LayerError {
    if (this.layer !== undefined) return this;
    const opts: LayerErrorOptions = {
      layer: digest,
      ...(this.entry === undefined ? {} : { entry: this.entry }),
      ...(this.offset === undefined ? {} : { offset: this.offset }),
      ...(this.cause === undefined ? {} : { cause: this.cause }),
    };
    return new LayerError(this.code as LayerErrorCode, this.reason, opts);
  }
}
