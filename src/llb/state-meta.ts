/**
 * What a builder State carries besides its filesystem output: the environment, working directory,
 * user, platform and exec defaults that later `run()`/`file()` calls use. Plain immutable data.
 */
import { posix } from 'node:path';
import { EnvList } from './env-list.js';
import type { Output } from './op-node.js';
import type { LLBPlatform } from './types.js';

export type NetworkMode = 'default' | 'host' | 'none';
export type SecurityMode = 'sandbox' | 'insecure';

export type { EnvEntry } from './env-list.js';

export interface StateMeta {
  readonly env: EnvList;
  /** Absolute working directory. */
  readonly cwd: string;
  /** `user[:group]` as written, or "" for the image default (root). */
  readonly user: string;
  readonly platform: LLBPlatform | undefined;
  readonly network: NetworkMode;
  readonly security: SecurityMode;
  readonly hostname: string;
}

/** Anything with a filesystem output and meta: builder States, for code that must not import them. */
export interface StateLike {
  /** undefined = the empty filesystem (scratch). */
  readonly output: Output | undefined;
  readonly meta: StateMeta;
}

export const INITIAL_META: StateMeta = {
  env: EnvList.empty,
  cwd: '/',
  user: '',
  platform: undefined,
  network: 'default',
  security: 'sandbox',
  hostname: '',
};

/**
 * `posix.join('/', p)`: `p` made absolute and normalised (a trailing `/` kept). A relative path
 * without empty, `.` or `..` segments (the usual COPY source) is only prefixed, without the
 * arrays and strings of a full normalisation per source.
 */
export function joinRoot(p: string): string {
  if (p !== '' && p.charCodeAt(0) !== 0x2f && p.charCodeAt(0) !== 0x2e && !p.includes('//') && !p.includes('/.')) return `/${p}`;
  return posix.join('/', p);
}

/**
 * Resolves `p` against the absolute directory `cwd`, like BuildKit's path handling: result is
 * absolute and cleaned; with `keepSlash`, a trailing `/` (or `/.`) on `p` is kept, since for COPY it
 * means "destination is a directory".
 */
export function resolvePath(cwd: string, p: string, opts: { keepSlash?: boolean } = {}): string {
  // Fast path: already absolute and clean (no `.`/`..` segments, no `//`).
  if (p.startsWith('/') && !p.includes('/.') && !p.includes('//') && (opts.keepSlash || p.length === 1 || !p.endsWith('/'))) return p;
  const joined = p.startsWith('/') ? posix.normalize(p) : posix.join(cwd || '/', p);
  let out = joined === '.' ? '/' : joined;
  if (!out.startsWith('/')) out = `/${out}`;
  if (opts.keepSlash && (p.endsWith('/') || p.endsWith('/.') || p === '.' || p === '') && !out.endsWith('/')) out += '/';
  if (!opts.keepSlash && out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return out;
}
