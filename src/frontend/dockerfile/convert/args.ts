/**
 * Build arguments: the automatic platform ARGs, the proxy family (passed to every RUN without being
 * declared, never part of cache keys), the global (pre-FROM) ARGs usable in FROM lines, and
 * SOURCE_DATE_EPOCH.
 */
import { formatPlatform } from '../../../llb/platform.js';
import type { ProxyEnv } from '../../../llb/exec.js';
import type { LLBPlatform } from '../../../llb/types.js';
import type { ArgInstruction } from '../instructions/instruction.js';
import { Diagnostics, fail } from '../instructions/diagnostics.js';
import { siteOf } from '../instructions/site.js';
import type { ParseContext } from '../instructions/site.js';
import type { Expander } from './expand.js';
import { UserInputError } from '../../../util/errors.js';

/** Docker's predefined ARGs that need no ARG instruction (any case). */
export const PROXY_ARG_NAMES = ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'] as const;

export const PLATFORM_ARG_NAMES = [
  'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT',
  'TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT',
] as const;

export function isPredefinedArg(name: string): boolean {
  return (PROXY_ARG_NAMES as readonly string[]).includes(name.toUpperCase()) || (PLATFORM_ARG_NAMES as readonly string[]).includes(name) || name === 'SOURCE_DATE_EPOCH';
}

/** The automatic platform ARGs of the global scope. */
export function platformArgs(build: LLBPlatform, target: LLBPlatform): Map<string, string> {
  return new Map([
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
  ]);
}

/** HTTP_PROXY & co. from the build args (either case), as BuildKit's proxyEnvFromBuildArgs. */
export function proxyEnvFromBuildArgs(buildArgs: ReadonlyMap<string, string>): ProxyEnv | undefined {
  const out: Record<string, string> = {};
  const field: Record<string, keyof ProxyEnv> = { HTTP_PROXY: 'httpProxy', HTTPS_PROXY: 'httpsProxy', FTP_PROXY: 'ftpProxy', NO_PROXY: 'noProxy', ALL_PROXY: 'allProxy' };
  for (const k of [...buildArgs.keys()].sort()) {
    const f = field[k.toUpperCase()];
    if (f) out[f] = buildArgs.get(k) ?? '';
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export interface GlobalArgs {
  /** Values in scope for FROM lines and for `ARG NAME` (no default) inside stages. */
  readonly values: ReadonlyMap<string, string>;
  /** Every name declared before the first FROM. */
  readonly declared: ReadonlySet<string>;
}

/**
 * Evaluates the ARGs before the first FROM in order: a --build-arg wins, else the default expanded
 * with the globals so far; a declaration without either has no value.
 */
export function evalGlobalArgs(metaArgs: readonly ArgInstruction[], buildArgs: ReadonlyMap<string, string>, defaults: ReadonlyMap<string, string>, expander: Expander, ctx: ParseContext): GlobalArgs {
  const values = new Map(defaults);
  const declared = new Set<string>();
  for (const ins of metaArgs) {
    for (const a of ins.args) {
      declared.add(a.key);
      const given = buildArgs.get(a.key);
      let v: string | undefined = given;
      if (v === undefined && a.value !== undefined) v = expander.word(a.value, (k) => values.get(k), siteOf(ins.node, ctx));
      if (v !== undefined) values.set(a.key, v);
    }
  }
  return { values, declared };
}

/** SOURCE_DATE_EPOCH from the build args or the global ARGs, in Unix seconds. */
export function sourceDateEpoch(buildArgs: ReadonlyMap<string, string>, globals: ReadonlyMap<string, string>, metaArgs: readonly ArgInstruction[], ctx: ParseContext): number | undefined {
  const v = buildArgs.get('SOURCE_DATE_EPOCH') ?? globals.get('SOURCE_DATE_EPOCH');
  if (v === undefined || v === '') return undefined;
  if (!/^[0-9]+$/.test(v)) {
    const msg = `invalid SOURCE_DATE_EPOCH "${v}": expected Unix seconds`;
    const decl = metaArgs.find((m) => m.args.some((a) => a.key === 'SOURCE_DATE_EPOCH'));
    // From the Dockerfile: located; from --build-arg: a plain input error.
    if (decl && !buildArgs.has('SOURCE_DATE_EPOCH')) fail(Diagnostics.badOption, [msg], siteOf(decl.node, ctx));
    throw new UserInputError('INVALID_BUILD_ARG', msg);
  }
  return Number(v);
}
