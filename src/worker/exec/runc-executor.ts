/**
 * The runc executor: runs a RUN step's process on an already-mounted rootfs. Per run it makes a
 * private bundle under ROOT/tmp (config.json, init files, secret tmpfs, rw-bind upper dirs), a
 * unique container id and cgroup, and removes all of it before `run` settles.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { CancelledError, errorMessage, TsbuildError, throwIfAborted } from '../../util/errors.js';
import { removeCgroupDirs, canLimitSwap, cgroupDirs, cgroupPathFor } from './cgroups.js';
import { runContainer } from './container-process.js';
import { ownBoundingCapabilities, ownOpenFilesLimit } from './default-security.js';
import { ExecErrorCode, ExecFailedError } from './errors.js';
import { writeInitFiles } from './init-files.js';
import type { InitFiles } from './init-files.js';
import { LogTail } from './log-lines.js';
import { MountStubs } from './mount-stubs.js';
import { processEnv } from './process-env.js';
import { errnoCode, hostPathInRootfsSync } from './root-path.js';
import { Runc } from './runc.js';
import { checkRuntimeDirs } from './runtime-dirs.js';
import { prepareMounts } from './run-mounts.js';
import { buildRuntimeSpec, standardMounts } from './runtime-spec.js';
import { startSandboxNetwork } from './sandbox-network.js';
import type { SandboxNetwork } from './sandbox-network.js';
import type { SpecMount } from './runtime-spec.js';
import { runInitProgram, SeccompPreload, withPreloadedSeccomp } from './seccomp-preload.js';
import { cleanupStaleRuns, writeOwner } from './stale-runs.js';
import type { StaleCleanupReport } from './stale-runs.js';
import type { ExecLogLine, ExecProcess, ExecRequest, ExecResult, ExecSetup, Executor, NetworkMode, PreparedExec } from './types.js';
import { resolveUser } from './user.js';

export interface RuncExecutorOptions {
  /** The data root; runs use ROOT/runc (runc state) and ROOT/tmp (bundles). */
  readonly root: string;
  /** Default `runc` from PATH. */
  readonly runcBinary?: string;
  /** Hostname when the request names none. Default `tsbuildsandbox`. */
  readonly defaultHostname?: string;
  /** Default `/etc/resolv.conf`. */
  readonly hostResolvConfPath?: string;
  /** Output lines kept for the error of a failed run. Default 10. */
  readonly logTailLines?: number;
  /** After abort, how long `runc kill` may take before runc itself is killed. Default 10000. */
  readonly killTimeoutMs?: number;
  /** For the `sandbox` network. Default `slirp4netns` from PATH. */
  readonly slirp4netnsBinary?: string;
  /**
   * Load sandboxed steps' seccomp filter compiled once (seccomp-preload.ts) instead of by runc at
   * every RUN. Default: when tsbuild-run-init was built and TSBUILD_SECCOMP_PRELOAD is not 0.
   */
  readonly seccompPreload?: boolean;
}

interface HostFacts {
  readonly allCapabilities: readonly string[];
  readonly openFiles: number;
  readonly limitSwap: boolean;
}

function invalidRequest(message: string): TsbuildError {
  return new TsbuildError(ExecErrorCode.invalidRequest, message);
}

function checkRequest(req: ExecProcess): void {
  if (req.args.length === 0 || req.args[0] === '') throw invalidRequest('a RUN needs a command (args is empty)');
  if (req.args.some((a) => a.includes('\0'))) throw invalidRequest('command arguments must not contain NUL bytes');
  if (req.cwd !== undefined && !posix.isAbsolute(req.cwd)) throw invalidRequest(`working directory ${JSON.stringify(req.cwd)} must be absolute`);
  for (const [k, v] of Object.entries(req.limits ?? {})) {
    if (v !== undefined && (!Number.isSafeInteger(v) || (v as number) <= 0)) throw invalidRequest(`limit ${k} must be a positive integer, got ${String(v)}`);
  }
}

function checkRootfs(rootfs: string): void {
  try {
    if (statSync(rootfs).isDirectory()) return;
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  throw invalidRequest(`rootfs ${rootfs} is not a directory`);
}

/**
 * The clean forms of the prefixes of `path` that end in a name, when it has a `..` segment
 * (`/a/../b` → [`/a`]; the whole path is left to the caller); none for any other path.
 */
function namedPrefixes(path: string): string[] {
  const parts = path.split('/');
  if (!parts.includes('..')) return [];
  const out: string[] = [];
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    if (part !== '' && part !== '.' && part !== '..') out.push(posix.normalize(`/${parts.slice(0, i + 1).join('/')}`));
  }
  return out;
}

/** True when container path `p` is `dir` or lies under it. */
function under(dir: string, p: string): boolean {
  return p === dir || p.startsWith(`${dir}/`);
}

export class RuncExecutor implements Executor {
  private readonly opts: RuncExecutorOptions;
  private readonly runc: Runc;
  private readonly tmpDir: string;
  private hostFacts: Promise<HostFacts> | undefined;
  /** Undefined when runc compiles every step's filter itself. */
  readonly seccompPreload: SeccompPreload | undefined;

  constructor(opts: RuncExecutorOptions) {
    this.opts = opts;
    this.runc = new Runc({ stateDir: join(opts.root, 'runc'), ...(opts.runcBinary !== undefined ? { binary: opts.runcBinary } : {}) });
    this.tmpDir = join(opts.root, 'tmp');
    const program = opts.seccompPreload === false ? undefined : runInitProgram();
    this.seccompPreload = program === undefined ? undefined : new SeccompPreload({ runc: this.runc, dir: join(opts.root, 'seccomp'), tmpDir: this.tmpDir, program });
  }

  /** runc's `--root` state directory, for `runc list` checks. */
  get runcStateDir(): string {
    return this.runc.stateDir;
  }

  /**
   * Removes what runs of dead engine processes left behind (containers, cgroups, secret mounts,
   * bundles). Runs of live engines sharing the data root are left alone. Call when an engine starts.
   */
  cleanupStale(opts: { readonly signal: AbortSignal }): Promise<StaleCleanupReport> {
    return cleanupStaleRuns({ tmpDir: this.tmpDir, runc: this.runc, signal: opts.signal });
  }

  private facts(): Promise<HostFacts> {
    this.hostFacts ??= (async () => ({
      allCapabilities: await ownBoundingCapabilities(),
      openFiles: await ownOpenFilesLimit(),
      limitSwap: await canLimitSwap(),
    }))();
    return this.hostFacts;
  }

  /**
   * Starts the run's sandbox network in the background and registers its release as the cleanup
   * that runs just before the bundle is removed. `stopSoon` begins the release early (once the
   * container is gone), so it overlaps the other cleanups.
   */
  private startNetwork(bundle: string, signal: AbortSignal, cleanups: Cleanup[]): { started: Promise<SandboxNetwork>; stopSoon(): void } {
    const started = startSandboxNetwork({ dir: bundle, signal, ...(this.opts.slirp4netnsBinary !== undefined ? { slirp4netnsBinary: this.opts.slirp4netnsBinary } : {}) });
    // Awaited where the namespace is needed; a failure there (or none, if preparing failed first) is not lost.
    started.catch(() => undefined);
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      // startSandboxNetwork cleans up after itself when it fails: then there is nothing to release.
      stopped ??= started.then((n) => n.release(), () => undefined);
      return stopped;
    };
    cleanups.push(stop);
    return {
      started,
      stopSoon: () => {
        stop().catch(() => undefined);
      },
    };
  }

  async run(req: ExecRequest): Promise<ExecResult> {
    return (await this.prepare(req)).run(req);
  }

  async prepare(setup: ExecSetup): Promise<PreparedExec> {
    const { signal } = setup;
    throwIfAborted(signal);
    // The bundle is made with synchronous calls (two mkdirs, a mkdtemp, four small writes, two small
    // /proc reads: well under a millisecond). It is on every RUN's critical path, beside the rootfs
    // mount, and as thread-pool trips one after another each waited behind the build's other file
    // I/O (the layer tars' writes and fsyncs) and for an event-loop turn (docs/benchmarks.md,
    // s15-run-cost).
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.runc.stateDir, { recursive: true, mode: 0o700 });
    const id = `tsbuild-${randomBytes(8).toString('hex')}`;
    const dir = mkdtempSync(join(this.tmpDir, 'exec-'));
    // Undone in reverse order: the container first, then stubs, host mounts, the bundle. The bundle
    // (a handful of small files) goes synchronously: this runs after the container exited, on the
    // step's critical path, where a recursive rm through the thread pool is ~15 trips one after another.
    const cleanups: Cleanup[] = [async () => rmSync(dir, { recursive: true, force: true })];
    try {
      writeOwner(dir, id);
      // The sandbox network comes up while the rest is prepared, and goes down while the rest is undone.
      const network = setup.network === 'sandbox' ? this.startNetwork(dir, signal, cleanups) : undefined;
      const hostname = setup.hostname ?? this.opts.defaultHostname ?? 'tsbuildsandbox';
      const init = writeInitFiles({
        dir,
        hostname,
        network: setup.network,
        extraHosts: setup.extraHosts ?? [],
        hostResolvConfPath: this.opts.hostResolvConfPath ?? '/etc/resolv.conf',
      });
      // Read once: the same directories go to the run shim and to the cleanup after the run.
      const cgroups = cgroupDirs(cgroupPathFor(id));
      const facts = await this.facts();
      const bundle: RunBundle = { id, dir, hostname, network: setup.network, init, facts, cgroupDirs: cgroups, netns: network };
      return new PreparedRuncRun(this.runc, this.opts, this.seccompPreload, bundle, signal, cleanups);
    } catch (e) {
      return settle(cleanups, signal, () => Promise.reject(e));
    }
  }
}

type Cleanup = () => Promise<unknown>;

/** What `prepare` made for a run: everything that needs no rootfs. */
interface RunBundle {
  readonly id: string;
  readonly dir: string;
  readonly hostname: string;
  readonly network: NetworkMode;
  readonly init: InitFiles;
  readonly facts: HostFacts;
  readonly cgroupDirs: readonly string[];
  readonly netns: { readonly started: Promise<SandboxNetwork>; stopSoon(): void } | undefined;
}

/**
 * Runs `work`, then the cleanups (last first; the array is emptied), and settles with the work's
 * result or its error, else the first cleanup error.
 */
async function settle<T>(cleanups: Cleanup[], signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  let result: T | undefined;
  let failure: { error: unknown } | undefined;
  try {
    result = await work();
  } catch (e) {
    // fs calls given the signal reject with a DOMException AbortError (not always instanceof
    // Error across realms); callers expect ours.
    const aborted = signal.aborted && typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
    failure = { error: aborted ? new CancelledError(signal.reason) : e };
  }
  const cleanupErrors: unknown[] = [];
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (e) {
      cleanupErrors.push(e);
    }
  }
  if (failure !== undefined) throw failure.error;
  if (cleanupErrors.length > 0) {
    throw new TsbuildError('EXEC_CLEANUP_FAILED', `cleaning up after the run failed: ${errorMessage(cleanupErrors[0])}`, { cause: cleanupErrors[0] });
  }
  return result as T;
}

class PreparedRuncRun implements PreparedExec {
  #started = false;

  constructor(
    private readonly runc: Runc,
    private readonly opts: RuncExecutorOptions,
    private readonly preload: SeccompPreload | undefined,
    private readonly b: RunBundle,
    private readonly signal: AbortSignal,
    private readonly cleanups: Cleanup[],
  ) {}

  run(proc: ExecProcess): Promise<ExecResult> {
    if (this.#started) return Promise.reject(new Error('a prepared run runs once'));
    this.#started = true;
    return settle(this.cleanups, this.signal, () => this.#runProcess(proc));
  }

  async discard(): Promise<void> {
    // Once running, the run releases everything itself when it settles.
    if (this.#started) return;
    this.#started = true;
    await settle(this.cleanups, this.signal, () => Promise.resolve());
  }

  async #runProcess(req: ExecProcess): Promise<ExecResult> {
    const { signal, cleanups } = this;
    const { id, dir: bundle, facts, init, hostname } = this.b;
    throwIfAborted(signal);
    checkRequest(req);
    const rootfs = resolve(req.rootfs);
    // The checks, the working directory, the stubs and config.json use synchronous calls: a few
    // dozen small ones on the step's critical path, which as thread-pool trips would each wait
    // behind the build's other file I/O (the eager tar of the layer before).
    checkRootfs(rootfs);
    checkRuntimeDirs(rootfs);
    const security = req.security ?? 'sandbox';
    const user = await resolveUser({ rootfs, user: req.user ?? '', signal });

    const secretEnv = req.secretEnv ?? {};
    const prepared = await prepareMounts({ bundle, mounts: req.mounts ?? [], needSecretDir: Object.keys(secretEnv).length > 0 });
    cleanups.push(() => prepared.release());
    const initMounts: SpecMount[] = init.map((f) => ({ destination: f.target, type: 'bind', source: f.source, options: ['rbind', 'rprivate'] }));

    // Docker creates a missing working directory as root 0755, and it stays in the layer. Under a
    // mount it belongs to the mount's source, not to the rootfs: runc handles that case.
    // A cwd as written (`/a/../b`) names more directories than its clean form: runc's MkdirAll
    // creates `/a` too, so each prefix ending in a name is created, the clean cwd last.
    const cwd = posix.normalize(req.cwd ?? '/');
    for (const dir of [...namedPrefixes(req.cwd ?? '/'), cwd]) {
      if (!prepared.specMounts.some((m) => under(m.destination, dir))) {
        mkdirSync(hostPathInRootfsSync(rootfs, dir), { recursive: true, mode: 0o755 });
      }
    }

    // The runtime's own mount points (and /etc for the init files) stay in the layer, as Docker's do.
    const stubs = await MountStubs.create(rootfs, [
      ...standardMounts(security).map((m) => ({ path: m.destination, kind: 'dir' as const, keepDirs: true })),
      ...init.map((f) => ({ path: f.target, kind: 'file' as const, keepDirs: true })),
      ...prepared.stubs,
    ]);
    cleanups.push(() => stubs.remove());

    const network = this.b.netns;
    const netnsPath = network === undefined ? undefined : (await network.started).nsPath;
    const spec = buildRuntimeSpec({
      rootfs,
      args: req.args,
      env: processEnv({ env: req.env, home: user.home, secretEnv, ...(prepared.sshAuthSock ? { sshAuthSock: prepared.sshAuthSock } : {}) }),
      cwd,
      user,
      hostname,
      network: this.b.network,
      ...(netnsPath !== undefined ? { netnsPath } : {}),
      security,
      extraMounts: [...initMounts, ...prepared.specMounts],
      cgroupsPath: cgroupPathFor(id),
      limits: req.limits,
      limitSwap: facts.limitSwap,
      openFiles: facts.openFiles,
      ...(req.ulimits !== undefined && req.ulimits.length > 0 ? { ulimits: req.ulimits } : {}),
      allCapabilities: facts.allCapabilities,
    });
    // The filter runc would compile, loaded precompiled by tsbuild-run-init (seccomp-preload.ts).
    // It needs no_new_privs (no capability to load a filter without it), which sandboxed steps have.
    const fds = spec.linux.seccomp !== undefined && spec.process.noNewPrivileges ? await this.preload?.fdsFor(spec.linux.seccomp, join(bundle, 'start-error')) : undefined;
    throwIfAborted(signal);
    // config.json holds the process env: with secrets in it, it lives on the secret tmpfs, not on disk.
    const runcBundle = prepared.secretDir ?? bundle;
    writeFileSync(join(runcBundle, 'config.json'), JSON.stringify(fds !== undefined ? withPreloadedSeccomp(spec) : spec, null, 2), { mode: 0o600 });
    throwIfAborted(signal);

    cleanups.push(async () => {
      await this.runc.forceDelete(id);
      network?.stopSoon();
      await removeCgroupDirs(this.b.cgroupDirs);
    });
    const tail = new LogTail(this.opts.logTailLines ?? 10);
    const onLine = (l: ExecLogLine): void => {
      tail.add(l.text);
      req.onLog?.(l);
    };
    const exit = await runContainer({
      runc: this.runc,
      id,
      bundle: runcBundle,
      logFile: join(bundle, 'runc.log'),
      cgroupDirs: this.b.cgroupDirs,
      onLine,
      signal,
      killTimeoutMs: this.opts.killTimeoutMs ?? 10_000,
      ...(fds !== undefined ? { fds } : {}),
      ...(req.onStarted !== undefined ? { onStarted: req.onStarted } : {}),
    });
    if (exit.cancelled) throw new CancelledError(signal.reason);
    if (exit.startError !== undefined) {
      throw new ExecFailedError({ args: req.args, exitCode: exit.exitCode, lastLines: tail.snapshot(), startError: exit.startError });
    }
    if (exit.exitCode !== 0) {
      const mem = req.limits?.memoryBytes;
      const hint = exit.exitCode === 137 && mem !== undefined ? `the process was killed (SIGKILL): it may have exceeded the memory limit of ${mem} bytes` : undefined;
      throw new ExecFailedError({ args: req.args, exitCode: exit.exitCode, lastLines: tail.snapshot(), ...(hint ? { hint } : {}) });
    }
    return { exitCode: 0 };
  }
}
