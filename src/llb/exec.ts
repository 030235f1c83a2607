/**
 * ExecOp construction: a process run on the base state's filesystem (mounted at "/") plus extra
 * mounts. Env, cwd, user, network and security come from the base state's meta. Mounts are sorted
 * by target so the encoding does not depend on the order flags were written in, and parents are
 * mounted before their children.
 */
import { tsbuild } from './gen/llb.js';
import { InputList, OpNode } from './op-node.js';
import { resolvePath } from './state-meta.js';
import type { NetworkMode, SecurityMode, StateLike } from './state-meta.js';
import type { OpConstraints } from './types.js';

export type CacheSharing = 'shared' | 'private' | 'locked';

/** An extra mount of a RUN step. Relative targets are resolved against the working directory. */
export type ExecMount =
  | {
    readonly type: 'bind';
    readonly target: string;
    /** undefined = scratch. */
    readonly source: StateLike | undefined;
    /** Path inside the source to mount (default: its root). */
    readonly selector?: string;
    readonly readonly?: boolean;
    /** Give this mount an output (its changes become a result). Default false. */
    readonly output?: boolean;
  }
  | {
    readonly type: 'cache';
    readonly target: string;
    readonly id: string;
    readonly sharing?: CacheSharing;
    /** Seed for a new cache directory (`from=`); undefined = empty. */
    readonly source?: StateLike | undefined;
    readonly selector?: string;
    readonly readonly?: boolean;
    readonly mode?: number;
    readonly uid?: number;
    readonly gid?: number;
  }
  | { readonly type: 'tmpfs'; readonly target: string; /** Bytes; 0 = kernel default. */ readonly size?: number }
  | {
    readonly type: 'secret' | 'ssh';
    readonly target: string;
    readonly id: string;
    readonly uid?: number;
    readonly gid?: number;
    readonly mode?: number;
    readonly optional?: boolean;
  };

export interface ProxyEnv {
  readonly httpProxy?: string;
  readonly httpsProxy?: string;
  readonly ftpProxy?: string;
  readonly noProxy?: string;
  readonly allProxy?: string;
}

export interface RunOptions {
  readonly args: readonly string[];
  readonly mounts?: readonly ExecMount[];
  /** Secrets exposed as environment variables (`--mount=type=secret,env=NAME`). */
  readonly secretEnv?: readonly { readonly id: string; readonly name: string; readonly optional?: boolean }[];
  readonly proxyEnv?: ProxyEnv;
  readonly extraHosts?: readonly { readonly host: string; readonly ip: string }[];
  /** Overrides of the base state's meta for this step only. */
  readonly network?: NetworkMode;
  readonly security?: SecurityMode;
  readonly constraints?: OpConstraints;
}

const NET: Record<NetworkMode, tsbuild.llb.NetMode> = {
  default: tsbuild.llb.NetMode.NET_UNSET,
  host: tsbuild.llb.NetMode.NET_HOST,
  none: tsbuild.llb.NetMode.NET_NONE,
};

const SHARING: Record<CacheSharing, tsbuild.llb.CacheSharingOpt> = {
  shared: tsbuild.llb.CacheSharingOpt.SHARED,
  private: tsbuild.llb.CacheSharingOpt.PRIVATE,
  locked: tsbuild.llb.CacheSharingOpt.LOCKED,
};

export interface ExecNode {
  readonly node: OpNode;
  /** Output index per mount target ("/" → 0). */
  readonly outputs: ReadonlyMap<string, number>;
}

/** `envList`: the base's env as `KEY=VALUE` strings, when the caller has them already. */
export function buildExecNode(base: StateLike, opts: RunOptions, envList?: readonly string[]): ExecNode {
  if (opts.args.length === 0) throw new Error('run: args must not be empty');
  const cwd = base.meta.cwd;
  const inputs = new InputList();
  type Pending = { target: string; pb: tsbuild.llb.Mount.$Properties; wantOutput: boolean };
  const pending: Pending[] = [{
    target: '/',
    pb: { input: inputs.add(base.output), dest: '/', mountType: tsbuild.llb.MountType.BIND },
    wantOutput: true,
  }];
  for (const m of opts.mounts ?? []) {
    const target = resolvePath(cwd, m.target);
    if (target === '/') throw new Error(`run: invalid mount target "${m.target}"`);
    switch (m.type) {
      case 'bind':
        pending.push({
          target,
          pb: { input: inputs.add(m.source?.output), selector: m.selector ?? '', dest: target, readonly: m.readonly ?? false, mountType: tsbuild.llb.MountType.BIND },
          wantOutput: m.output ?? false,
        });
        break;
      case 'cache': {
        const cacheOpt: tsbuild.llb.CacheOpt.$Properties = { id: m.id, sharing: SHARING[m.sharing ?? 'shared'] };
        if (m.mode !== undefined) { cacheOpt.mode = m.mode; cacheOpt.hasMode = true; }
        if (m.uid !== undefined) { cacheOpt.uid = m.uid; cacheOpt.hasUid = true; }
        if (m.gid !== undefined) { cacheOpt.gid = m.gid; cacheOpt.hasGid = true; }
        pending.push({
          target,
          pb: { input: inputs.add(m.source?.output), selector: m.selector ?? '', dest: target, readonly: m.readonly ?? false, mountType: tsbuild.llb.MountType.CACHE, cacheOpt },
          wantOutput: false,
        });
        break;
      }
      case 'tmpfs':
        pending.push({ target, pb: { input: -1, dest: target, mountType: tsbuild.llb.MountType.TMPFS, tmpfsOpt: { size: m.size ?? 0 } }, wantOutput: false });
        break;
      case 'secret':
        pending.push({
          target,
          pb: { input: -1, dest: target, mountType: tsbuild.llb.MountType.SECRET, secretOpt: { id: m.id, uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o400, optional: m.optional ?? false } },
          wantOutput: false,
        });
        break;
      case 'ssh':
        pending.push({
          target,
          pb: { input: -1, dest: target, mountType: tsbuild.llb.MountType.SSH, sshOpt: { id: m.id, uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o600, optional: m.optional ?? false } },
          wantOutput: false,
        });
        break;
    }
  }
  // Stable sort by target: "/" first, parents before children, independent of flag order.
  pending.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  const outputs = new Map<string, number>();
  let next = 0;
  const mounts = pending.map((p) => {
    if (p.wantOutput) outputs.set(p.target, next);
    return { ...p.pb, output: p.wantOutput ? next++ : -1 };
  });
  const meta = base.meta;
  const execMeta: tsbuild.llb.Meta.$Properties = {
    args: [...opts.args],
    env: envList ? [...envList] : meta.env.map(([k, v]) => `${k}=${v}`),
    cwd: meta.cwd,
    user: meta.user,
    hostname: meta.hostname,
    extraHosts: (opts.extraHosts ?? []).map((h) => ({ host: h.host, ip: h.ip })),
  };
  if (opts.proxyEnv && Object.values(opts.proxyEnv).some((v) => v)) {
    const p = opts.proxyEnv;
    execMeta.proxyEnv = { httpProxy: p.httpProxy ?? '', httpsProxy: p.httpsProxy ?? '', ftpProxy: p.ftpProxy ?? '', noProxy: p.noProxy ?? '', allProxy: p.allProxy ?? '' };
  }
  const exec: tsbuild.llb.ExecOp.$Properties = {
    meta: execMeta,
    mounts,
    network: NET[opts.network ?? meta.network],
    security: (opts.security ?? meta.security) === 'insecure' ? tsbuild.llb.SecurityMode.INSECURE : tsbuild.llb.SecurityMode.SANDBOX,
    secretenv: (opts.secretEnv ?? []).map((s) => ({ id: s.id, name: s.name, optional: s.optional ?? false })),
  };
  const node = new OpNode({
    inputs: inputs.outputs(),
    body: () => ({ exec }),
    outputs: next,
    platform: meta.platform,
    constraints: opts.constraints,
  });
  return { node, outputs };
}
