/**
 * The seccomp policy as data: the allow list resolved for a step's capabilities, the architecture
 * and the kernel. What the filter does to real calls is checked against Docker by
 * test/compat/seccomp-probe.test.ts.
 */
import { describe, expect, test } from '@jest/globals';
import { DOCKER_DEFAULT_CAPABILITIES } from '../../../src/worker/exec/default-security.js';
import { kernelVersion, sandboxSeccomp } from '../../../src/worker/exec/seccomp.js';
import type { SeccompPolicy, SeccompRule } from '../../../src/worker/exec/seccomp.js';
import { SYSCALL_GROUPS } from '../../../src/worker/exec/seccomp-allow-list.js';

const docker = (o: { arch?: string; kernelRelease?: string; extra?: readonly string[] } = {}): SeccompPolicy =>
  sandboxSeccomp({ capabilities: [...DOCKER_DEFAULT_CAPABILITIES, ...(o.extra ?? [])], arch: o.arch ?? 'x64', kernelRelease: o.kernelRelease ?? '6.1.0-18-amd64' });

/** Names allowed whatever their arguments. */
const plainlyAllowed = (p: SeccompPolicy): string[] => p.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && r.args === undefined).flatMap((r) => r.names);
const rulesFor = (p: SeccompPolicy, name: string): SeccompRule[] => p.syscalls.filter((r) => r.names.includes(name));

describe('sandboxSeccomp', () => {
  test('refuses by default with EPERM, for x86_64 and its 32-bit and x32 ABIs', () => {
    const p = docker();
    expect(p.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(p.defaultErrnoRet).toBe(1);
    expect(p.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    // One merged rule of plain allows comes first.
    expect(p.syscalls[0]?.names.length).toBeGreaterThan(300);
  });

  test("with Docker's default capabilities: ordinary calls allowed, the capability-gated doors closed", () => {
    const allowed = plainlyAllowed(docker());
    for (const n of ['read', 'write', 'execve', 'fork', 'vfork', 'wait4', 'chown', 'mknod', 'socket', 'arch_prctl', 'modify_ldt', 'chroot', 'ptrace', 'adjtimex']) expect(allowed).toContain(n);
    for (const n of [
      'unshare', 'setns', 'mount', 'umount2', 'pivot_root', 'keyctl', 'add_key', 'bpf', 'perf_event_open', 'userfaultfd', 'kcmp',
      'process_vm_readv', 'pidfd_getfd', 'reboot', 'init_module', 'acct', 'clock_settime', 'iopl', 'mbind', 'syslog',
      'open_by_handle_at', 'name_to_handle_at', 'pkey_alloc', 'vhangup', 'clone', 'clone3', 'personality', 'breakpoint',
    ]) expect(allowed).not.toContain(n);
    expect(new Set(allowed).size).toBe(allowed.length);
  });

  test('clone only without namespace flags, clone3 answered with ENOSYS', () => {
    const p = docker();
    expect(rulesFor(p, 'clone')).toEqual([{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }]);
    expect(rulesFor(p, 'clone3')).toEqual([{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
    // s390 passes clone's flags second.
    expect(rulesFor(docker({ arch: 's390x' }), 'clone')[0]?.args?.[0]?.index).toBe(1);
  });

  test("personality: only Docker's five values", () => {
    const rules = rulesFor(docker(), 'personality');
    expect(rules.map((r) => [r.action, r.args?.length, r.args?.[0]?.op, r.args?.[0]?.value])).toEqual(
      [0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map((v) => ['SCMP_ACT_ALLOW', 1, 'SCMP_CMP_EQ', v]),
    );
  });

  test('capability-gated groups follow the capabilities the step has', () => {
    const admin = docker({ extra: ['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'] });
    const allowed = plainlyAllowed(admin);
    for (const n of ['unshare', 'setns', 'mount', 'clone', 'clone3', 'kcmp', 'process_vm_readv']) expect(allowed).toContain(n);
    // With CAP_SYS_ADMIN clone is allowed outright: no flag rule, no ENOSYS for clone3.
    expect(rulesFor(admin, 'clone')).toHaveLength(1);
    expect(rulesFor(admin, 'clone3')).toHaveLength(1);
    expect(plainlyAllowed(sandboxSeccomp({ capabilities: [], arch: 'x64' }))).not.toContain('chroot');
  });

  test('ptrace only on kernels from 4.8; architecture-specific calls only on their architecture', () => {
    expect(plainlyAllowed(docker({ kernelRelease: '4.4.0-210-generic' }))).not.toContain('ptrace');
    expect(plainlyAllowed(docker({ kernelRelease: '4.8.0' }))).toContain('ptrace');
    const arm = plainlyAllowed(docker({ arch: 'arm64' }));
    expect(arm).toEqual(expect.arrayContaining(['breakpoint', 'cacheflush', 'set_tls', 'sync_file_range2']));
    expect(arm).not.toContain('arch_prctl');
    expect(docker({ arch: 'arm64' }).architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  });

  test('kernelVersion reads major and minor', () => {
    expect(kernelVersion('6.18.44-fc-v1272')).toEqual([6, 18]);
    expect(kernelVersion('garbage')).toEqual([0, 0]);
  });

  test('the allow list names every call once per group and is the only source of names', () => {
    for (const g of SYSCALL_GROUPS) expect(new Set(g.names).size).toBe(g.names.length);
    const everyName = new Set(SYSCALL_GROUPS.flatMap((g) => g.names));
    for (const r of docker({ extra: ['CAP_SYS_ADMIN'] }).syscalls) for (const n of r.names) expect(everyName.has(n)).toBe(true);
  });
});
