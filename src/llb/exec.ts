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
  readonly mounts?: readonly ExecMount[] | undefined;
  /** Secrets exposed as environment variables (`--mount=type=secret,env=NAME`). */
  readonly secretEnv?: readonly { readonly id: string; readonly name: string; readonly optional?: boolean }[] | undefined;
  readonly proxyEnv?: ProxyEnv | undefined;
  readonly extraHosts?: readonly { readonly host: string; readonly ip: string }[];
  /** Overrides of the base state's meta for this step only. */
  readonly network?: NetworkMode | undefined;
  readonly security?: SecurityMode | undefined;
  readonly constraints?: OpConstraints | undefined;
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
  // Every mount gets the same fields in the same order (absent options null): one object shape
  // keeps the encoder's property reads monomorphic, and null/default fields are not encoded.
  type Pending = {
    target: string;
    wantOutput: boolean;
    input: number;
    selector: string;
    readonly: boolean;
    mountType: tsbuild.llb.MountType;
    tmpfsOpt: tsbuild.llb.TmpfsOpt.$Properties | null;
    cacheOpt: tsbuild.llb.CacheOpt.$Properties | null;
    secretOpt: tsbuild.llb.SecretOpt.$Properties | null;
    sshOpt: tsbuild.llb.SSHOpt.$Properties | null;
  };
  // The defaults; each case below sets what its mount type has (no spreads: this runs per mount
  // of every RUN).
  const mount = (target: string, mountType: tsbuild.llb.MountType, input: number): Pending => ({
    target, wantOutput: false, input, selector: '', readonly: false, mountType, tmpfsOpt: null, cacheOpt: null, secretOpt: null, sshOpt: null,
  });
  const root = mount('/', tsbuild.llb.MountType.BIND, inputs.add(base.output));
  root.wantOutput = true;
  const pending: Pending[] = [root];
  for (const m of opts.mounts ?? []) {
    const target = resolvePath(cwd, m.target);
    if (target === '/') throw new Error(`run: invalid mount target "${m.target}"`);
    switch (m.type) {
      case 'bind': {
        const p = mount(target, tsbuild.llb.MountType.BIND, inputs.add(m.source?.output));
        p.selector = m.selector ?? '';
        p.readonly = m.readonly ?? false;
        p.wantOutput = m.output ?? false;
        pending.push(p);
        break;
      }
      case 'cache': {
        const cacheOpt: tsbuild.llb.CacheOpt.$Properties = { id: m.id, sharing: SHARING[m.sharing ?? 'shared'] };
        if (m.mode !== undefined) { cacheOpt.mode = m.mode; cacheOpt.hasMode = true; }
        if (m.uid !== undefined) { cacheOpt.uid = m.uid; cacheOpt.hasUid = true; }
        if (m.gid !== undefined) { cacheOpt.gid = m.gid; cacheOpt.hasGid = true; }
        const p = mount(target, tsbuild.llb.MountType.CACHE, inputs.add(m.source?.output));
        p.selector = m.selector ?? '';
        p.readonly = m.readonly ?? false;
        p.cacheOpt = cacheOpt;
        pending.push(p);
        break;
      }
      case 'tmpfs': {
        const p = mount(target, tsbuild.llb.MountType.TMPFS, -1);
        p.tmpfsOpt = { size: m.size ?? 0 };
        pending.push(p);
        break;
      }
      case 'secret': {
        const p = mount(target, tsbuild.llb.MountType.SECRET, -1);
        p.secretOpt = { id: m.id, uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o400, optional: m.optional ?? false };
        pending.push(p);
        break;
      }
      case 'ssh': {
        const p = mount(target, tsbuild.llb.MountType.SSH, -1);
        p.sshOpt = { id: m.id, uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o600, optional: m.optional ?? false };
        pending.push(p);
        break;
      }
    }
  }
  // Stable sort by target: "/" first, parents before children, independent of flag order.
  if (pending.length === 2) {
    // Two (the root and one mount, the usual case): no sort and its work array.
    const [a, b] = pending as [Pending, Pending];
    if (a.target > b.target) { pending[0] = b; pending[1] = a; }
  } else if (pending.length > 2) {
    pending.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  }
  // Most steps have only the root as an output: they share one map (never modified).
  const outputs = pending.some((p) => p !== root && p.wantOutput) ? new Map<string, number>() : undefined;
  let next = 0;
  const mounts = pending.map((p): tsbuild.llb.Mount.$Properties => {
    if (p.wantOutput) outputs?.set(p.target, next);
    return {
      input: p.input,
      selector: p.selector,
      dest: p.target,
      output: p.wantOutput ? next++ : -1,
      readonly: p.readonly,
      mountType: p.mountType,
      tmpfsOpt: p.tmpfsOpt,
      cacheOpt: p.cacheOpt,
      secretOpt: p.secretOpt,
      sshOpt: p.sshOpt,
    };
  });
  const meta = base.meta;
  const p = opts.proxyEnv;
  const execMeta: tsbuild.llb.Meta.$Properties = {
    // Not copied either: the body is encoded when the node is made and not kept.
    args: opts.args as string[],
    // The env list is shared with the state it came from (and other steps on it); op bodies are
    // only ever encoded, never modified, so it is not copied.
    env: (envList ?? meta.env.strings()) as string[],
    cwd: meta.cwd,
    user: meta.user,
    hostname: meta.hostname,
    extraHosts: opts.extraHosts === undefined || opts.extraHosts.length === 0 ? [] : opts.extraHosts.map((h) => ({ host: h.host, ip: h.ip })),
    proxyEnv: p && Object.values(p).some((v) => v)
      ? { httpProxy: p.httpProxy ?? '', httpsProxy: p.httpsProxy ?? '', ftpProxy: p.ftpProxy ?? '', noProxy: p.noProxy ?? '', allProxy: p.allProxy ?? '' }
      : null,
  };
  const exec: tsbuild.llb.ExecOp.$Properties = {
    meta: execMeta,
    mounts,
    network: NET[opts.network ?? meta.network],
    security: (opts.security ?? meta.security) === 'insecure' ? tsbuild.llb.SecurityMode.INSECURE : tsbuild.llb.SecurityMode.SANDBOX,
    secretenv: opts.secretEnv === undefined || opts.secretEnv.length === 0 ? [] : opts.secretEnv.map((s) => ({ id: s.id, name: s.name, optional: s.optional ?? false })),
  };
  const node = new OpNode({
    inputs: inputs.outputs(),
    body: { exec },
    outputs: next,
    platform: meta.platform,
    constraints: opts.constraints,
  });
  return { node, outputs: outputs ?? ROOT_ONLY };
}

/** The outputs of an exec op whose only output is its root. */
const ROOT_ONLY: ReadonlyMap<string, number> = new Map([['/', 0]]);
