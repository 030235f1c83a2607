/** Entry names from a layer, reduced to safe relative paths inside the layer root. */
import { LayerError, LayerErrorCode } from './errors.js';
import { limitExceeded } from './layer-limits.js';
import type { LayerLimits } from './layer-limits.js';

/** Linux: one name may be 255 bytes. */
export const MAX_NAME_BYTES = 255;

/**
 * The components of an entry's path. Leading `/` and `./` are dropped (an absolute name is taken
 * relative to the layer root, as Docker does); `..` anywhere is refused. The result never leaves
 * the root; `[]` is the root itself. Paths over the length or depth limit are refused.
 */
export function entryComponents(name: string, what: { entry: string; offset: number; field: string }, limits: LayerLimits): string[] {
  const where = { entry: what.entry, offset: what.offset };
  if (name.includes('\0')) throw new LayerError(LayerErrorCode.malformed, `${what.field} contains a NUL byte`, where);
  if (name.length > limits.maxPathBytes) throw limitExceeded(limits, 'maxPathBytes', where, what.field);
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.length > limits.maxPathDepth) throw limitExceeded(limits, 'maxPathDepth', where, what.field);
  for (const c of parts) {
    if (c === '..') throw new LayerError(LayerErrorCode.unsafe, `${what.field} ${JSON.stringify(name)} climbs out of the layer root with ".."`, where);
    if (c.length > MAX_NAME_BYTES) throw new LayerError(LayerErrorCode.unsupported, `a name in ${what.field} is longer than ${MAX_NAME_BYTES} bytes`, where);
  }
  return parts;
}
