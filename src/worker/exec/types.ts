/**
 * The executor contract: how the worker runs one RUN step's process in a container. The lead will
 * move these interfaces into `src/worker/types.ts`; until then they live beside their implementation.
 *
 * Ownership: the caller owns the rootfs (an already-mounted directory, normally the overlay mount of
 * the step's active snapshot) and every host path a mount names; the executor never unmounts or
 * deletes them. Everything the executor creates for a run (bundle, init files, mountpoint stubs,
 * secret tmpfs, runc state, cgroup) is gone when `run` settles, whether it resolved or rejected.
 */
import type { UlimitEntry } from '../../util/ulimit.js';

/**
 * `sandbox` (the default, BuildKit's name for it): a private network namespace with loopback and
 * outbound access through slirp4netns (sandbox-network.ts); the host's and the engine's loopback
 * services are out of reach. `none`: a private network namespace with only loopback. `host`: the
 * host's network namespace.
 */
export type NetworkMode = 'sandbox' | 'none' | 'host';

/**
 * `sandbox`: Docker's default confinement (default capability set, masked /proc paths, read-only
 * /sys, no new privileges). `insecure`: `RUN --security=insecure`, every capability the engine has,
 * nothing masked.
 */
export type SecurityMode = 'sandbox' | 'insecure';

/** One output line of the process. */
export interface ExecLogLine {
  /** 1 = stdout, 2 = stderr (BuildKit's fd numbers, as in the progress `LogEvent`). */
  readonly stream: 1 | 2;
  /** The line without its terminating newline. */
  readonly text: string;
  /**
   * True when the line had no newline: the process exited mid-line, or the line passed the
   * splitter's length cap and was cut.
   */
  readonly partial: boolean;
  /** When the bytes were read, milliseconds since the Unix epoch. */
  readonly timestamp: number;
}

/**
 * What happens to writes under a bind mount. `deny`: read-only (the default for `type=bind`).
 * `discard`: writable, but writes go to a throwaway overlay upper dir and vanish after the run
 * (`type=bind,rw`). `persist`: writes land in the source directory (cache mounts, mounts whose
 * output is kept).
 */
export type BindWrites = 'deny' | 'discard' | 'persist';

/** A host path (file or directory) bound into the container. */
export interface BindExecMount {
  readonly kind: 'bind';
  /** Host path: a snapshot view, a context directory, a cache directory (from CacheMountManager). */
  readonly source: string;
  /** Absolute path inside the container. */
  readonly target: string;
  /** Default `deny` (read-only), as for `RUN --mount=type=bind`. */
  readonly writes?: BindWrites;
}

/** A fresh tmpfs (`RUN --mount=type=tmpfs`). */
export interface TmpfsExecMount {
  readonly kind: 'tmpfs';
  readonly target: string;
  /** Size limit in bytes; the kernel default (half of RAM) when absent. */
  readonly sizeBytes?: number;
}

/**
 * A secret file (`RUN --mount=type=secret`). The bytes are written to a tmpfs on the host for the
 * duration of the run and bound read-only at `target`; they never touch the rootfs or the disk.
 * Resolve ids to bytes with `resolveSecretMount` (secrets.ts).
 */
export interface SecretExecMount {
  readonly kind: 'secret';
  readonly target: string;
  readonly data: Uint8Array;
  /** File mode; BuildKit's default is 0o400. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/**
 * An SSH agent (`RUN --mount=type=ssh`): a proxy socket owned by uid/gid with `mode` is bound at
 * `target` and forwards to the host agent. When the request's env has no SSH_AUTH_SOCK, the
 * executor sets it to the first ssh mount's target.
 */
export interface SshExecMount {
  readonly kind: 'ssh';
  readonly target: string;
  /** Host path of the agent's unix socket (SSH_AUTH_SOCK of the client). */
  readonly socketPath: string;
  /** BuildKit's default is 0o600. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export type ExecMount = BindExecMount | TmpfsExecMount | SecretExecMount | SshExecMount;

/** cgroup limits for the container; absent fields mean unlimited. */
export interface ExecLimits {
  /** Memory limit in bytes (swap is limited to the same total, i.e. no swap). */
  readonly memoryBytes?: number;
  /** Maximum number of processes and threads. */
  readonly pids?: number;
}

/** An `--add-host` entry written to the generated /etc/hosts. */
export interface ExtraHost {
  readonly host: string;
  readonly ip: string;
}

/** What a run needs before its rootfs exists: `Executor.prepare` sets up the run's bundle from it. */
export interface ExecSetup {
  /** Default: the executor's `defaultHostname` (`tsbuildsandbox`). */
  readonly hostname?: string;
  readonly network: NetworkMode;
  readonly extraHosts?: readonly ExtraHost[];
  /** Aborting kills the container (SIGKILL), cleans up, and rejects with CancelledError. */
  readonly signal: AbortSignal;
}

/** The rest of a run, given to a prepared run once the rootfs is mounted. */
export interface ExecProcess {
  /** Host path of the already-mounted root filesystem. Must be writable (stubs, cwd). */
  readonly rootfs: string;
  /** argv; `args[0]` is looked up in the process PATH by runc when it has no slash. */
  readonly args: readonly string[];
  /** `KEY=VALUE` entries. PATH and HOME get defaults when absent (see docs/executor.md). */
  readonly env: readonly string[];
  /** Working directory inside the container; created (root, 0755) when missing. Default `/`. */
  readonly cwd?: string;
  /**
   * The image's USER as written: `name`, `uid`, `name:group`, `uid:gid`, `uid:group`; resolved
   * against the rootfs' /etc/passwd and /etc/group. Default `root`.
   */
  readonly user?: string;
  /** Default `sandbox`. */
  readonly security?: SecurityMode;
  /** Mounted in order over the rootfs; later targets may nest inside earlier ones. */
  readonly mounts?: readonly ExecMount[];
  /**
   * Environment variables from secrets (`--mount=type=secret,env=NAME`): added to the process env,
   * never logged, never part of an error message.
   */
  readonly secretEnv?: Readonly<Record<string, string>>;
  readonly limits?: ExecLimits;
  /**
   * Resource limits (`--ulimit`, Docker's names: nofile, nproc, …), in order; a `nofile` replaces
   * the default open-files limit (the engine's own). Default none.
   */
  readonly ulimits?: readonly UlimitEntry[];
  /** Called for each output line, in order per stream. Must not throw. */
  readonly onLog?: (line: ExecLogLine) => void;
  /**
   * Called once the runtime has been started for the process (runc is running; the run now waits
   * on it). Must not throw.
   */
  readonly onStarted?: () => void;
}

export interface ExecRequest extends ExecSetup, ExecProcess {}

export interface ExecResult {
  /** Always 0: a non-zero exit rejects with ExecFailedError. */
  readonly exitCode: number;
}

/**
 * Runs processes in containers. `run` resolves when the process exited 0 and every resource of the
 * run is released; it rejects with `ExecFailedError` (non-zero exit, or the process could not be
 * started), `UserInputError` (bad USER, bad mount), or `CancelledError` (signal aborted).
 * Implementations are safe to call concurrently.
 */
export interface Executor {
  run(req: ExecRequest): Promise<ExecResult>;
  /**
   * The part of a run that needs no rootfs (bundle, init files, sandbox network), so it can overlap
   * preparing and mounting the rootfs. The caller must settle what it gets: `run` it once, or
   * `discard` it (after `run`, `discard` does nothing).
   */
  prepare(setup: ExecSetup): Promise<PreparedExec>;
}

/** A run whose bundle is ready; see `Executor.prepare`. */
export interface PreparedExec {
  /** Like `Executor.run` with the setup given to `prepare`; releases everything, the bundle too. */
  run(proc: ExecProcess): Promise<ExecResult>;
  /** Releases the bundle of a run that will not be run. Idempotent. */
  discard(): Promise<void>;
}

/** A USER resolved against the rootfs' passwd and group files. */
export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups (from /etc/group membership when no group was given explicitly). */
  readonly additionalGids: readonly number[];
  /** Home directory from passwd, or `/` for a numeric uid not found there. */
  readonly home: string;
  /** The passwd name, when the user was found there. */
  readonly name: string | undefined;
}
