/**
 * ExecOp construction: a process run on the base state's filesystem (mounted at "/") plus extra
 * mounts. Env, cwd, user, network and security come from the base state's meta. Mounts are sorted
 * by target so the encoding does not depend on the order flags were written in, and parents are
 * mounted before their children.
 */
import { writeExecBody } from './exec-op-encoding.js';
import type { ExecBodyFields } from './exec-op-encoding.js';
import { tsbuild } from './gen/llb.js';
import { InputList, OpNode } from './op-node.js';
import type { BodyWriter, OpBody } from './op-node.js';
import type { ProtoWriter } from './proto-writer.js';
import { resolvePath } from './state-meta.js';
import type { NetworkMode, SecurityMode, StateLike } from './state-meta.js';
import type { OpConstraints } from './types.js';
import type { UlimitEntry } from '../util/ulimit.js';
import type { ExtraHostEntry } from '../util/extra-host.js';

export type CacheSharing = 'shared' | 'private' | 'locked';

/** An extra mount of a RUN step. Relative targets are resolved against the working directory. */
export type ExecMount =
  | {
    readonly type: 'bind';
    readonly target: string;
    /** undefined = scratch. */
    readonly source: StateLike | undefined;
    /** Path inside the source to mount (default: its root). */
    readonly selector?: string | undefined;
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
    readonly selector?: string | undefined;
    readonly readonly?: boolean;
    readonly mode?: number | undefined;
    readonly uid?: number | undefined;
    readonly gid?: number | undefined;
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
  readonly extraHosts?: readonly ExtraHostEntry[] | undefined;
  /** Resource limits of the process (`--ulimit`), in order. */
  readonly ulimits?: readonly UlimitEntry[] | undefined;
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

/**
 * A mount being built, in the Mount message's own fields (written as it is: no second object per
 * mount) plus whether it gets an output; `output` is numbered once the mounts are sorted.
 */
interface PendingMount extends tsbuild.llb.Mount.$Properties {
  input: number;
  selector: string;
  dest: string;
  output: number;
  readonly: boolean;
  mountType: tsbuild.llb.MountType;
  tmpfsOpt: tsbuild.llb.TmpfsOpt.$Properties | null;
  cacheOpt: tsbuild.llb.CacheOpt.$Properties | null;
  secretOpt: tsbuild.llb.SecretOpt.$Properties | null;
  sshOpt: tsbuild.llb.SSHOpt.$Properties | null;
  wantOutput: boolean;
}

/**
 * Every mount gets the same fields in the same order (absent options null): one object shape
 * keeps the encoder's property reads monomorphic, and null/default fields are not encoded.
 */
function pendingMount(dest: string, mountType: tsbuild.llb.MountType, input: number): PendingMount {
  return { input, selector: '', dest, output: -1, readonly: false, mountType, tmpfsOpt: null, cacheOpt: null, secretOpt: null, sshOpt: null, wantOutput: false };
}

/** An exec op's body as one record, written by `writeExecBody` when the node is made. */
class ExecBody implements ExecBodyFields, BodyWriter {
  constructor(
    readonly args: readonly string[],
    readonly env: readonly string[],
    readonly cwd: string,
    readonly user: string,
    readonly hostname: string,
    readonly extraHosts: readonly tsbuild.llb.HostIP.$Properties[],
    readonly proxyEnv: tsbuild.llb.ProxyEnv.$Properties | null,
    readonly ulimit: readonly tsbuild.llb.Ulimit.$Properties[],
    readonly mounts: readonly PendingMount[],
    readonly network: tsbuild.llb.NetMode,
    readonly security: tsbuild.llb.SecurityMode,
    readonly secretenv: readonly tsbuild.llb.SecretEnv.$Properties[],
  ) {}

  write(w: ProtoWriter): void {
    writeExecBody(w, this);
  }

  /** The body as the message object it stands for (the protobufjs cross-check's input). */
  reference(): OpBody {
    const meta: tsbuild.llb.Meta.$Properties = {
      args: [...this.args], env: [...this.env], cwd: this.cwd, user: this.user, hostname: this.hostname, extraHosts: [...this.extraHosts], proxyEnv: this.proxyEnv, ulimit: [...this.ulimit],
    };
    const mounts = this.mounts.map((m): tsbuild.llb.Mount.$Properties => ({
      input: m.input, selector: m.selector, dest: m.dest, output: m.output, readonly: m.readonly, mountType: m.mountType,
      tmpfsOpt: m.tmpfsOpt, cacheOpt: m.cacheOpt, secretOpt: m.secretOpt, sshOpt: m.sshOpt,
    }));
    return { exec: { meta, mounts, network: this.network, security: this.security, secretenv: [...this.secretenv] } };
  }
}

const NO_HOSTS: readonly tsbuild.llb.HostIP.$Properties[] = [];
const NO_ULIMITS: readonly tsbuild.llb.Ulimit.$Properties[] = [];
const NO_SECRET_ENV: readonly tsbuild.llb.SecretEnv.$Properties[] = [];

/** `envList`: the base's env as `KEY=VALUE` strings, when the caller has them already. */
export function buildExecNode(base: StateLike, opts: RunOptions, envList?: readonly string[]): ExecNode {
  if (opts.args.length === 0) throw new Error('run: args must not be empty');
  const cwd = base.meta.cwd;
  const inputs = new InputList();
  const root = pendingMount('/', tsbuild.llb.MountType.BIND, inputs.add(base.output));
  root.wantOutput = true;
  const pending: PendingMount[] = [root];
  // Each case sets what its mount type has (no spreads: this runs per mount of every RUN).
  for (const m of opts.mounts ?? []) {
    const target = resolvePath(cwd, m.target);
    if (target === '/') throw new Error(`run: invalid mount target "${m.target}"`);
    switch (m.type) {
      case 'bind': {
        const p = pendingMount(target, tsbuild.llb.MountType.BIND, inputs.add(m.source?.output));
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
        const p = pendingMount(target, tsbuild.llb.MountType.CACHE, inputs.add(m.source?.output));
        p.selector = m.selector ?? '';
        p.readonly = m.readonly ?? false;
        p.cacheOpt = cacheOpt;
        pending.push(p);
        break;
      }
      case 'tmpfs': {
        const p = pendingMount(target, tsbuild.llb.MountType.TMPFS, -1);
        p.tmpfsOpt = { size: m.size ?? 0 };
        pending.push(p);
        break;
      }
      case 'secret': {
        const p = pendingMount(target, tsbuild.llb.MountType.SECRET, -1);
        p.secretOpt = { id: m.id, uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o400, optional: m.optional ?? false };
        pending.push(p);
        break;
      }
      case 'ssh': {
        const p = pendingMount(target, tsbuild.llb.MountType.SSH, -1);
        p.sshOpt = { id: m.id, uid: m.uid ?? 0, gid: m.gid ?? 0, mode: m.mode ?? 0o600, optional: m.optional ?? false };
        pending.push(p);
        break;
      }
    }
  }
  // Stable sort by target: "/" first, parents before children, independent of flag order.
  if (pending.length === 2) {
    // Two (the root and one mount, the usual case): no sort and its work array.
    const [a, b] = pending as [PendingMount, PendingMount];
    if (a.dest > b.dest) { pending[0] = b; pending[1] = a; }
  } else if (pending.length > 2) {
    pending.sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
  }
  // Most steps have only the root as an output: they share one map (never modified).
  let extraOutput = false;
  for (let k = 0; k < pending.length; k++) if ((pending[k] as PendingMount).wantOutput && pending[k] !== root) extraOutput = true;
  const outputs = extraOutput ? new Map<string, number>() : undefined;
  let next = 0;
  for (let k = 0; k < pending.length; k++) {
    const p = pending[k] as PendingMount;
    if (!p.wantOutput) continue;
    outputs?.set(p.dest, next);
    p.output = next++;
  }
  const meta = base.meta;
  const px = opts.proxyEnv;
  const body = new ExecBody(
    // Neither copied: the body is encoded when the node is made and not kept. The env list is
    // shared with the state it came from (and other steps on it).
    opts.args,
    envList ?? meta.env.strings(),
    meta.cwd,
    meta.user,
    meta.hostname,
    opts.extraHosts === undefined || opts.extraHosts.length === 0 ? NO_HOSTS : opts.extraHosts.map((h) => ({ host: h.host, ip: h.ip })),
    px && Object.values(px).some((v) => v)
      ? { httpProxy: px.httpProxy ?? '', httpsProxy: px.httpsProxy ?? '', ftpProxy: px.ftpProxy ?? '', noProxy: px.noProxy ?? '', allProxy: px.allProxy ?? '' }
      : null,
    opts.ulimits === undefined || opts.ulimits.length === 0 ? NO_ULIMITS : opts.ulimits.map((u) => ({ name: u.name, soft: u.soft, hard: u.hard })),
    pending,
    NET[opts.network ?? meta.network],
    (opts.security ?? meta.security) === 'insecure' ? tsbuild.llb.SecurityMode.INSECURE : tsbuild.llb.SecurityMode.SANDBOX,
    opts.secretEnv === undefined || opts.secretEnv.length === 0 ? NO_SECRET_ENV : opts.secretEnv.map((x) => ({ id: x.id, name: x.name, optional: x.optional ?? false })),
  );
  const node = new OpNode({
    inputs: inputs.outputs(),
    body,
    outputs: next,
    platform: meta.platform,
    constraints: opts.constraints,
  });
  return { node, outputs: outputs ?? ROOT_ONLY };
}

/** The outputs of an exec op whose only output is its root. */
const ROOT_ONLY: ReadonlyMap<string, number> = new Map([['/', 0]]);
