/**
 * The OCI runtime spec (config.json) for one RUN: the subset of opencontainers/runtime-spec that
 * tsbuild writes, and the function that builds it. Pure: no I/O, so it can be checked in isolation.
 */
import { assertNever, TsbuildError } from '../../util/errors.js';
import { ULIMIT_TYPES } from '../../util/ulimit.js';
import { ExecErrorCode } from './errors.js';
import { DOCKER_DEFAULT_CAPABILITIES, DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS } from './default-security.js';
import { sandboxSeccomp, type SeccompPolicy } from './seccomp.js';
import type { ExecLimits, NetworkMode, ResolvedUser, SecurityMode } from './types.js';
import type { UlimitEntry } from '../../util/ulimit.js';

export interface SpecMount {
  readonly destination: string;
  readonly type: string;
  readonly source: string;
  readonly options?: readonly string[];
}

interface DeviceRule {
  readonly allow: boolean;
  readonly type?: 'a' | 'c' | 'b';
  readonly major?: number;
  readonly minor?: number;
  readonly access: string;
}

export interface RuntimeSpec {
  readonly ociVersion: string;
  readonly process: {
    readonly terminal: false;
    readonly user: { readonly uid: number; readonly gid: number; readonly additionalGids: readonly number[]; readonly umask: number };
    readonly args: readonly string[];
    readonly env: readonly string[];
    readonly cwd: string;
    readonly capabilities: { readonly bounding: readonly string[]; readonly effective: readonly string[]; readonly permitted: readonly string[] };
    readonly rlimits: ReadonlyArray<{ readonly type: string; readonly hard: number; readonly soft: number }>;
    readonly noNewPrivileges: boolean;
  };
  readonly root: { readonly path: string; readonly readonly: boolean };
  readonly hostname: string;
  readonly mounts: readonly SpecMount[];
  readonly linux: {
    readonly cgroupsPath: string;
    readonly namespaces: ReadonlyArray<{ readonly type: string; readonly path?: string }>;
    readonly resources: {
      readonly devices: readonly DeviceRule[];
      readonly memory?: { readonly limit: number; readonly swap?: number };
      readonly pids?: { readonly limit: number };
    };
    readonly maskedPaths: readonly string[];
    readonly readonlyPaths: readonly string[];
    /** Sandboxed steps only (seccomp.ts). */
    readonly seccomp?: SeccompPolicy;
  };
}

export interface RuntimeSpecOptions {
  readonly rootfs: string;
  readonly args: readonly string[];
  /** Final process env (defaults already applied). */
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: ResolvedUser;
  readonly hostname: string;
  readonly network: NetworkMode;
  /** For `sandbox`: the prepared network namespace (an nsfs file) the container joins. */
  readonly netnsPath?: string;
  readonly security: SecurityMode;
  /** Mounts after the standard ones (init files, then the RUN's own mounts), in order. */
  readonly extraMounts: readonly SpecMount[];
  readonly cgroupsPath: string;
  readonly limits: ExecLimits | undefined;
  /** Whether memory.swap may be set (cgroup v1 needs swap accounting). */
  readonly limitSwap: boolean;
  /** RLIMIT_NOFILE soft and hard, unless `ulimits` has a `nofile`. */
  readonly openFiles: number;
  /** `--ulimit` entries (Docker's names), in order. Default none. */
  readonly ulimits?: readonly UlimitEntry[];
  /** Capabilities for `insecure` (the engine's bounding set). */
  readonly allCapabilities: readonly string[];
}

/**
 * The process's rlimits: the default open-files limit (unless a `nofile` ulimit replaces it), then
 * each ulimit as given. An unknown name is refused (the engine checked them; a spec is never
 * written with one).
 */
function rlimitsOf(openFiles: number, ulimits: readonly UlimitEntry[]): { type: string; hard: number; soft: number }[] {
  const out = ulimits.some((u) => u.name === 'nofile') ? [] : [{ type: 'RLIMIT_NOFILE', hard: openFiles, soft: openFiles }];
  for (const u of ulimits) {
    const type = Object.hasOwn(ULIMIT_TYPES, u.name) ? ULIMIT_TYPES[u.name] : undefined;
    if (type === undefined) throw new TsbuildError(ExecErrorCode.invalidRequest, `unknown ulimit "${u.name}"`);
    out.push({ type, hard: u.hard, soft: u.soft });
  }
  return out;
}

/** The standard container filesystem, Docker's: /proc, a tmpfs /dev with pts/shm/mqueue, /sys. */
export function standardMounts(security: SecurityMode): SpecMount[] {
  const sysOpts = security === 'sandbox' ? ['nosuid', 'noexec', 'nodev', 'ro'] : ['nosuid', 'noexec', 'nodev'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysOpts },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
}

/**
 * Device cgroup rules. The device nodes themselves (null, zero, full, random, urandom, tty, ptmx)
 * are the runtime's to create (runtime-spec "Default Devices"); these rules let the process use
 * them, plus Docker's mknod-anything and /dev/pts/*. Not /dev/console (5:1): BuildKit's RUN does not
 * allow it (its spec is "deny all", to which runc 1.1 appends the same list as here plus
 * /dev/net/tun), and with CAP_MKNOD a step could otherwise make a node for the host's console.
 */
function deviceRules(security: SecurityMode): DeviceRule[] {
  if (security === 'insecure') return [{ allow: true, access: 'rwm' }];
  const c = (major: number, minor: number): DeviceRule => ({ allow: true, type: 'c', major, minor, access: 'rwm' });
  return [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', access: 'm' },
    { allow: true, type: 'b', access: 'm' },
    c(1, 3), c(1, 5), c(1, 7), c(1, 8), c(1, 9), c(5, 0), c(5, 2),
    { allow: true, type: 'c', major: 136, access: 'rwm' },
  ];
}

export function buildRuntimeSpec(o: RuntimeSpecOptions): RuntimeSpec {
  let caps: readonly string[];
  switch (o.security) {
    case 'sandbox':
      caps = DOCKER_DEFAULT_CAPABILITIES;
      break;
    case 'insecure':
      caps = o.allCapabilities;
      break;
    default:
      return assertNever(o.security, 'security mode');
  }
  const namespaces: Array<{ type: string; path?: string }> = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  switch (o.network) {
    case 'sandbox':
      // Joined, not created: the namespace already has slirp4netns' tap0 and a default route.
      if (o.netnsPath === undefined) throw new Error('network sandbox needs the path of a prepared network namespace');
      namespaces.push({ type: 'network', path: o.netnsPath });
      break;
    case 'none':
      // A fresh network namespace; runc brings up its loopback and nothing else.
      namespaces.push({ type: 'network' });
      break;
    case 'host':
      break;
    default:
      return assertNever(o.network, 'network mode');
  }
  const mem = o.limits?.memoryBytes;
  const pids = o.limits?.pids;
  const sandbox = o.security === 'sandbox';
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: o.user.uid, gid: o.user.gid, additionalGids: o.user.additionalGids, umask: 0o022 },
      args: o.args,
      env: o.env,
      cwd: o.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: rlimitsOf(o.openFiles, o.ulimits ?? []),
      noNewPrivileges: sandbox,
    },
    root: { path: o.rootfs, readonly: false },
    hostname: o.hostname,
    mounts: [...standardMounts(o.security), ...o.extraMounts],
    linux: {
      cgroupsPath: o.cgroupsPath,
      namespaces,
      resources: {
        devices: deviceRules(o.security),
        ...(mem !== undefined ? { memory: o.limitSwap ? { limit: mem, swap: mem } : { limit: mem } } : {}),
        ...(pids !== undefined ? { pids: { limit: pids } } : {}),
      },
      maskedPaths: sandbox ? DOCKER_MASKED_PATHS : [],
      readonlyPaths: sandbox ? DOCKER_READONLY_PATHS : [],
      ...(sandbox ? { seccomp: sandboxSeccomp({ capabilities: caps }) } : {}),
    },
  };
}
