/**
 * ExecOp (RUN): prepare a writable snapshot on the rootfs input, mount it, resolve the other mounts
 * (bind views, cache directories, tmpfs, secrets, ssh), run the process in runc, unmount and commit.
 * Every mount and lease is undone on success, failure and cancellation.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { tsbuild } from '../../llb/gen/llb.js';
import type { LLBVertex, PbExecOp, PbMeta, PbMount } from '../../llb/types.js';
import type { CacheMap, CacheMapDep, Op, OpContext, Result } from '../../solver/types.js';
import { UserInputError, type SourceLocation } from '../../util/errors.js';
import { failpoint } from '../../util/failpoint.js';
import { opCacheDigest } from '../../llb/cache-digest.js';
import type { ExecMount, NetworkMode } from '../exec/types.js';
import { resolveSecretEnv, resolveSecretMount, resolveSshMount } from '../exec/secrets.js';
import { cacheMountId } from '../cache-mounts/manager.js';
import type { CacheSharing } from '../cache-mounts/types.js';
import { hostPathInRootfs } from '../exec/root-path.js';
import { selectedContentDigest } from './content-digest.js';
import { snapshotOf, targetOf } from './worker-result.js';
import { fileReadReporter, layerResult, openReadRoot, type OpDeps } from './context.js';

const { MountType, NetMode, SecurityMode, CacheSharingOpt } = tsbuild.llb;

interface Cleanup {
  (): Promise<unknown>;
}

function sharing(s: number): CacheSharing {
  return s === CacheSharingOpt.PRIVATE ? 'private' : s === CacheSharingOpt.LOCKED ? 'locked' : 'shared';
}

export class ExecOpImpl implements Op {
  readonly #v: LLBVertex;
  readonly #exec: PbExecOp;
  readonly #deps: OpDeps;
  readonly #location: SourceLocation | undefined;

  constructor(v: LLBVertex, exec: PbExecOp, deps: OpDeps, location: SourceLocation | undefined) {
    this.#v = v;
    this.#exec = exec;
    this.#deps = deps;
    this.#location = location;
  }

  async cacheMap(ctx: OpContext): Promise<CacheMap> {
    // Inputs read only through read-only bind mounts are keyed by the content of the selected paths;
    // the rootfs and anything mounted writable are keyed by the input's cache key.
    const ro = new Map<number, string[]>();
    const byKey = new Set<number>();
    for (const m of this.#exec.mounts) {
      if (m.input < 0) continue;
      if (m.mountType === MountType.BIND && m.readonly && m.dest !== '/') {
        ro.set(m.input, [...(ro.get(m.input) ?? []), m.selector || '/']);
      } else {
        byKey.add(m.input);
      }
    }
    const deps: CacheMapDep[] = this.#v.inputs.map((_, i) => {
      const sels = ro.get(i);
      if (!sels || byKey.has(i)) return {};
      return {
        selector: sels.join(','),
        computeDigest: (r: Result, c: OpContext) =>
          selectedContentDigest(this.#deps, r, sels.map((p) => ({ path: p, wildcard: false, allowEmpty: false, followLinks: true })), {
            signal: c.signal,
            ...(this.#location ? { location: this.#location } : {}),
            ...fileReadReporter(this.#deps, this.#v.digest),
          }),
      };
    });
    void ctx;
    return { digest: opCacheDigest(this.#v), deps };
  }

  async exec(ctx: OpContext, inputs: readonly Result[]): Promise<Result[]> {
    const { services: s, session } = this.#deps;
    const signal = ctx.signal;
    const mounts = this.#exec.mounts;
    const rootMount = mounts.find((m) => m.dest === '/');
    if (!rootMount) throw new Error('exec op has no root mount');
    const rootInput = rootMount.input >= 0 ? inputs[rootMount.input] : undefined;
    const parent = rootInput ? snapshotOf(rootInput, 'RUN') : undefined;
    for (const m of mounts) {
      if (m.output >= 0 && m !== rootMount) {
        throw new UserInputError('UNSUPPORTED_EXEC_OUTPUT', `mount ${m.dest}: outputs other than the root filesystem are not supported`);
      }
    }

    const meta = this.#exec.meta;
    if (!meta) throw new Error('exec op has no meta');
    if (this.#exec.security === SecurityMode.INSECURE && !session.allowInsecure) {
      throw new UserInputError('INSECURE_NOT_ALLOWED', 'RUN --security=insecure needs --allow security.insecure', this.#location ? { location: this.#location } : {});
    }
    if (this.#exec.network === NetMode.NET_HOST && !session.allowNetworkHost) {
      throw new UserInputError('NETWORK_HOST_NOT_ALLOWED', 'RUN --network=host needs --allow network.host (or the build\'s --network host)', this.#location ? { location: this.#location } : {});
    }
    const network: NetworkMode = this.#exec.network === NetMode.NET_NONE ? 'none' : this.#exec.network === NetMode.NET_HOST ? 'host' : session.defaultNetwork;
    const active = await s.snapshotter.prepare({ signal, ...(parent ? { parent } : {}) });
    let committed = false;
    const cleanups: Cleanup[] = [];
    try {
      // The rootfs mount is queued first (its syscall runs on a thread-pool thread); one turn of the
      // event loop lets it get there, then the executor makes the run's bundle (init files, cgroup
      // layout, sandbox network) with synchronous file calls while the kernel mounts.
      const mounting = s.snapshotter.mount(active, { signal, containerRoot: true });
      // Awaited below, or released by the cleanups: a failure is never lost, nor left unhandled.
      mounting.catch(() => undefined);
      cleanups.push(() => mounting.then((ref) => ref.release(), () => undefined));
      await nextTurn();
      const pendingRun = s.executor.prepare({
        ...(meta.hostname ? { hostname: meta.hostname } : {}),
        network,
        extraHosts: meta.extraHosts.map((h) => ({ host: h.host, ip: h.ip })),
        signal,
      });
      pendingRun.catch(() => undefined);
      cleanups.push(() => pendingRun.then((p) => p.discard(), () => undefined));
      const rootRef = await mounting;
      const execMounts: ExecMount[] = [];
      let sshIndex = 0;
      for (const m of mounts) {
        if (m === rootMount) continue;
        const em = await this.#resolveMount(m, inputs, cleanups, signal, sshIndex);
        if (m.mountType === MountType.SSH) sshIndex++;
        if (em) execMounts.push(em);
      }
      const secretEnv = await resolveSecretEnv(
        this.#exec.secretenv.map((e) => ({ id: e.id, name: e.name, required: !e.optional })),
        session.secrets,
        signal,
      );
      await (await pendingRun).run({
        rootfs: rootRef.path,
        args: meta.args,
        env: [...meta.env, ...proxyEnv(meta.proxyEnv)],
        ...(meta.cwd ? { cwd: meta.cwd } : {}),
        ...(meta.user ? { user: meta.user } : {}),
        security: this.#exec.security === SecurityMode.INSECURE ? 'insecure' : 'sandbox',
        mounts: execMounts,
        secretEnv,
        ...(meta.ulimit.length > 0 ? { ulimits: meta.ulimit.map((u) => ({ name: u.name, soft: Number(u.soft), hard: Number(u.hard) })) } : {}),
        onLog: (l) => ctx.progress.log(l.stream, l.partial ? l.text : `${l.text}\n`),
        ...(session.processStarted ? { onStarted: session.processStarted } : {}),
      });
      await runCleanups(cleanups);
      await s.snapshotter.commit(active, { signal });
      committed = true;
      await failpoint('exec.committed');
      return [await layerResult(this.#deps, ctx, active.id, parent)];
    } finally {
      await runCleanups(cleanups);
      if (!committed) await s.snapshotter.remove(active.id).catch(() => undefined);
    }
  }

  async #resolveMount(m: PbMount, inputs: readonly Result[], cleanups: Cleanup[], signal: AbortSignal, sshIndex: number): Promise<ExecMount | undefined> {
    const { services: s, session } = this.#deps;
    const input = m.input >= 0 ? inputs[m.input] : undefined;
    switch (m.mountType) {
      case MountType.BIND: {
        const dir = await this.#hostDir(input, m.selector, cleanups, signal);
        return { kind: 'bind', source: dir, target: m.dest, writes: m.readonly ? 'deny' : 'discard' };
      }
      case MountType.CACHE: {
        const o = m.cacheOpt;
        let seed: { from: string; key: string } | undefined;
        if (input) {
          const from = await this.#hostDir(input, m.selector, cleanups, signal);
          seed = { from, key: `${input.id || targetOf(input).kind}:${m.selector}` };
        }
        const lease = await s.cacheMounts.acquire({
          id: cacheMountId(o?.id || undefined, m.dest),
          sharing: sharing(o?.sharing ?? 0),
          signal,
          ...(o?.hasMode ? { mode: o.mode } : {}),
          ...(o?.hasUid ? { uid: o.uid } : {}),
          ...(o?.hasGid ? { gid: o.gid } : {}),
          ...(seed ? { seed } : {}),
        });
        cleanups.push(() => lease.release());
        return { kind: 'bind', source: lease.path, target: m.dest, writes: m.readonly ? 'deny' : 'persist' };
      }
      case MountType.TMPFS:
        return { kind: 'tmpfs', target: m.dest, ...(m.tmpfsOpt?.size ? { sizeBytes: m.tmpfsOpt.size } : {}) };
      case MountType.SECRET: {
        const o = m.secretOpt;
        if (!o) throw new Error('secret mount without options');
        return resolveSecretMount({ id: o.id, target: m.dest, required: !o.optional, mode: o.mode || 0o400, uid: o.uid, gid: o.gid }, session.secrets, signal);
      }
      case MountType.SSH: {
        const o = m.sshOpt;
        return resolveSshMount(
          { id: o?.id || 'default', ...(m.dest ? { target: m.dest } : {}), required: !(o?.optional ?? false), mode: o?.mode || 0o600, uid: o?.uid ?? 0, gid: o?.gid ?? 0 },
          { agents: session.ssh, index: sshIndex },
        );
      }
      default:
        throw new UserInputError('UNKNOWN_MOUNT_TYPE', `unknown mount type ${m.mountType}`);
    }
  }

  /** A host path holding `selector` of the input, valid until the cleanups run. */
  async #hostDir(input: Result | undefined, selector: string, cleanups: Cleanup[], signal: AbortSignal): Promise<string> {
    if (!input) throw new Error('bind mount without input');
    const root = await openReadRoot(this.#deps, input, signal);
    cleanups.push(() => root.release());
    const rel = selector || '/';
    return rel === '/' ? root.path : hostPathInRootfs(root.path, rel);
  }
}

/** HTTP_PROXY & co. (from --build-arg) in both spellings, as BuildKit sets them; not in cache keys. */
function proxyEnv(p: PbMeta['proxyEnv']): string[] {
  if (!p) return [];
  const out: string[] = [];
  const add = (name: string, v: string): void => {
    if (v) out.push(`${name.toUpperCase()}=${v}`, `${name.toLowerCase()}=${v}`);
  };
  add('HTTP_PROXY', p.httpProxy);
  add('HTTPS_PROXY', p.httpsProxy);
  add('FTP_PROXY', p.ftpProxy);
  add('NO_PROXY', p.noProxy);
  add('ALL_PROXY', p.allProxy);
  return out;
}

async function runCleanups(cleanups: Cleanup[]): Promise<void> {
  while (cleanups.length) {
    const c = cleanups.pop() as Cleanup;
    await c().catch(() => undefined);
  }
}
