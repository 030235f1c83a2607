/** The generated OCI runtime spec, checked as data. */
import { describe, expect, test } from '@jest/globals';
import { buildRuntimeSpec } from '../../../src/worker/exec/runtime-spec.js';
import type { RuntimeSpecOptions } from '../../../src/worker/exec/runtime-spec.js';

const base: RuntimeSpecOptions = {
  rootfs: '/r',
  args: ['/bin/sh', '-c', 'true'],
  env: ['PATH=/bin'],
  cwd: '/',
  user: { uid: 1000, gid: 1000, additionalGids: [2000], home: '/home/app', name: 'app' },
  hostname: 'h',
  network: 'none',
  security: 'sandbox',
  extraMounts: [{ destination: '/etc/hosts', type: 'bind', source: '/b/hosts', options: ['rbind'] }],
  cgroupsPath: 'tsbuild-1',
  limits: undefined,
  limitSwap: true,
  openFiles: 4096,
  allCapabilities: ['CAP_SYS_ADMIN'],
};

describe('buildRuntimeSpec', () => {
  test('network none adds a network namespace; sandbox joins the prepared one; host has none', () => {
    expect(buildRuntimeSpec(base).linux.namespaces).toEqual([{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }]);
    expect(buildRuntimeSpec({ ...base, network: 'sandbox', netnsPath: '/b/netns' }).linux.namespaces.at(-1)).toEqual({ type: 'network', path: '/b/netns' });
    expect(() => buildRuntimeSpec({ ...base, network: 'sandbox' })).toThrow(/prepared network namespace/);
    expect(buildRuntimeSpec({ ...base, network: 'host' }).linux.namespaces.map((n) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount']);
  });

  test('process identity, rlimits, and mounts in order (standard ones first)', () => {
    const s = buildRuntimeSpec(base);
    expect(s.process.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [2000], umask: 0o022 });
    expect(s.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 4096, soft: 4096 }]);
    expect(s.mounts.map((m) => m.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/etc/hosts']);
    expect(s.process.terminal).toBe(false);
    expect(s.root).toEqual({ path: '/r', readonly: false });
  });

  test('ulimits: each as given, in order; a nofile replaces the default open-files limit', () => {
    expect(buildRuntimeSpec({ ...base, ulimits: [{ name: 'nproc', soft: 10, hard: 20 }, { name: 'core', soft: 0, hard: 0 }] }).process.rlimits).toEqual([
      { type: 'RLIMIT_NOFILE', hard: 4096, soft: 4096 }, { type: 'RLIMIT_NPROC', hard: 20, soft: 10 }, { type: 'RLIMIT_CORE', hard: 0, soft: 0 },
    ]);
    expect(buildRuntimeSpec({ ...base, ulimits: [{ name: 'nofile', soft: 100, hard: 200 }] }).process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 200, soft: 100 }]);
    expect(() => buildRuntimeSpec({ ...base, ulimits: [{ name: 'bogus', soft: 1, hard: 1 }] })).toThrow('unknown ulimit "bogus"');
  });

  test('limits: memory (with swap only when it can be limited) and pids', () => {
    expect(buildRuntimeSpec(base).linux.resources.memory).toBeUndefined();
    expect(buildRuntimeSpec({ ...base, limits: { memoryBytes: 1 << 20, pids: 10 } }).linux.resources).toMatchObject({ memory: { limit: 1 << 20, swap: 1 << 20 }, pids: { limit: 10 } });
    expect(buildRuntimeSpec({ ...base, limitSwap: false, limits: { memoryBytes: 1 << 20 } }).linux.resources.memory).toEqual({ limit: 1 << 20 });
  });

  test('insecure: given capabilities, nothing masked, /sys writable, all devices', () => {
    const s = buildRuntimeSpec({ ...base, security: 'insecure' });
    expect(s.process.capabilities.bounding).toEqual(['CAP_SYS_ADMIN']);
    expect(s.process.noNewPrivileges).toBe(false);
    expect(s.linux.maskedPaths).toEqual([]);
    expect(s.linux.readonlyPaths).toEqual([]);
    expect(s.mounts.find((m) => m.destination === '/sys')?.options).not.toContain('ro');
    expect(s.linux.resources.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(s.linux.seccomp).toBeUndefined();
  });

  test("sandbox: Docker's allow-list seccomp filter, resolved against the step's own capabilities", () => {
    const sc = buildRuntimeSpec(base).linux.seccomp;
    expect(sc?.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(sc?.defaultErrnoRet).toBe(1);
    const allowed = sc?.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && r.args === undefined).flatMap((r) => r.names) ?? [];
    // CAP_SYS_CHROOT is in Docker's default set, CAP_SYS_ADMIN is not (whatever `allCapabilities` says).
    expect(allowed).toContain('chroot');
    expect(allowed).not.toContain('unshare');
    expect(allowed).not.toContain('mount');
  });
});
