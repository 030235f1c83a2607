/** Entry names from a layer, reduced to safe relative paths inside the layer root. */
import { LayerError, LayerErrorCode } from './errors.js';

/** Linux limits: a path may be 4096 bytes, one name 255. */
export const MAX_PATH_BYTES = 4096;
export const MAX_NAME_BYTES = 255;

/**
 * The components of an entry's path. Leading `/` and `./` are dropped (an absolute name is taken
 * relative to the layer root, as Docker does); `..` anywhere is refused. The result never leaves
 * the root; `[]` is the root itself.
 */
export function entryComponents(name: string, what: { entry: string; offset: number; field: string }): string[] {
  if (name.includes('\0')) throw new LayerError(LayerErrorCode.malformed, `${what.field} contains a NUL byte`, what);
  if (name.length > MAX_PATH_BYTES) throw new LayerError(LayerErrorCode.unsupported, `${what.field} is longer than ${MAX_PATH_BYTES} bytes`, what);
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  for (const c of parts) {
    if (c === '..') throw new LayerError(LayerErrorCode.unsafe, `${what.field} ${JSON.stringify(name)} climbs out of the layer root with ".."`, what);
    if (c.length > MAX_NAME_BYTES) throw new LayerError(LayerErrorCode.unsupported, `a name in ${what.field} is longer than ${MAX_NAME_BYTES} bytes`, what);
  }
  return parts;
}
