/**
 * Limits on what one layer may make an apply do: a decompression bomb (a small gzip of a huge
 * file), an entry flood (millions of tiny entries), absurdly deep or long paths and oversized
 * xattrs would otherwise fill the disk, the inode table or memory before anything else noticed.
 * The defaults are far above what real images hold (docs/snapshots.md); each can be set through
 * an environment variable, read once when the engine opens.
 */
import { UserInputError } from '../../util/errors.js';
import { LayerError, LayerErrorCode } from './errors.js';

export interface LayerLimits {
  /** Uncompressed tar bytes of one layer. Default 128 GiB. */
  readonly maxBytes: number;
  /** Tar entries of one layer (files, directories, links, whiteouts…). Default 2,000,000. */
  readonly maxEntries: number;
  /** Bytes of one entry's path or hardlink target. Default 4096 (Linux PATH_MAX). */
  readonly maxPathBytes: number;
  /** Components of one entry's path or hardlink target. Default 1024. */
  readonly maxPathDepth: number;
  /** Bytes of one xattr value. Default 65536 (Linux XATTR_SIZE_MAX). */
  readonly maxXattrBytes: number;
}

export type LayerLimitName = keyof LayerLimits;

export const DEFAULT_LAYER_LIMITS: LayerLimits = {
  maxBytes: 128 * 1024 ** 3,
  maxEntries: 2_000_000,
  maxPathBytes: 4096,
  maxPathDepth: 1024,
  maxXattrBytes: 65536,
};

/** The environment variable that sets each limit. */
export const LAYER_LIMIT_ENV: Readonly<Record<LayerLimitName, string>> = {
  maxBytes: 'TSBUILD_LAYER_MAX_BYTES',
  maxEntries: 'TSBUILD_LAYER_MAX_ENTRIES',
  maxPathBytes: 'TSBUILD_LAYER_MAX_PATH_BYTES',
  maxPathDepth: 'TSBUILD_LAYER_MAX_PATH_DEPTH',
  maxXattrBytes: 'TSBUILD_LAYER_MAX_XATTR_BYTES',
};

/** What each limit counts, for the error message: "more than N <unit>". */
const UNITS: Readonly<Record<LayerLimitName, string>> = {
  maxBytes: 'uncompressed bytes',
  maxEntries: 'entries',
  maxPathBytes: 'bytes in a path',
  maxPathDepth: 'components in a path',
  maxXattrBytes: 'bytes in an xattr value',
};

const SUFFIX: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `12`, `4k`, `10G`, `1TiB` → a positive safe integer; anything else → undefined. */
function parseCount(text: string): number | undefined {
  const m = /^([0-9]+)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * (SUFFIX[(m[2] ?? '').toLowerCase()] ?? 1);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** The limits the environment sets, defaults for the rest. A bad value is a UserInputError. */
export function layerLimitsFromEnv(env: NodeJS.ProcessEnv): LayerLimits {
  const out: Record<string, number> = { ...DEFAULT_LAYER_LIMITS };
  for (const [key, name] of Object.entries(LAYER_LIMIT_ENV) as Array<[LayerLimitName, string]>) {
    const text = env[name];
    if (text === undefined) continue;
    const n = parseCount(text);
    if (n === undefined) {
      throw new UserInputError('LAYER_LIMIT_INVALID', `${name}=${JSON.stringify(text)}: expected a positive whole number (sizes may end in K, M, G or T)`);
    }
    out[key] = n;
  }
  return out as unknown as LayerLimits;
}

/** Defaults filled in under `partial`. */
export function withDefaultLimits(partial: Partial<LayerLimits> | undefined): LayerLimits {
  return { ...DEFAULT_LAYER_LIMITS, ...partial };
}

/** `layer entry "x" (at byte N): more than 4096 bytes in a path (limit TSBUILD_LAYER_MAX_PATH_BYTES)`. */
export function limitExceeded(limits: LayerLimits, which: LayerLimitName, where: { readonly entry?: string; readonly offset?: number } = {}, what = ''): LayerError {
  const subject = what === '' ? '' : `${what}: `;
  return new LayerError(
    LayerErrorCode.limit,
    `${subject}more than ${limits[which]} ${UNITS[which]} (limit ${LAYER_LIMIT_ENV[which]}; raise it if the layer is genuine)`,
    where,
  );
}
