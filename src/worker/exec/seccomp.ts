/**
 * The seccomp filter of a sandboxed RUN step. Docker (and BuildKit inside it) confine containers
 * with a default seccomp profile; what it takes away from a process holding Docker's default
 * capabilities is mostly already refused by the kernel for lack of a capability, except for a few
 * doors that need none. The one that matters most is creating namespaces: without a filter an
 * unprivileged `unshare -U` (a new user namespace, in which the step then holds every capability)
 * succeeds, while under Docker it gets EPERM.
 *
 * This is tsbuild's own policy, written as a deny list over an allow-by-default filter (an allow
 * list would have to track every syscall of every kernel): the namespace doors (unshare, setns,
 * clone with a CLONE_NEW* flag, clone3 as ENOSYS so that libc falls back to clone, which can be
 * inspected), the kernel keyring, BPF and perf events, userfaultfd, and the administrative calls
 * Docker's profile also leaves out (modules, kexec, mounts, swap, reboot, clocks, accounting,
 * quotas, handle-based opens, obsolete calls). `RUN --security=insecure` gets no filter.
 *
 * Every name is resolved by runc through libseccomp for the architectures listed; a name the
 * running kernel's architecture lacks (vm86 on x86_64) is skipped by libseccomp, not an error.
 */

/** The `linux.seccomp` object of an OCI runtime spec (the fields tsbuild writes). */
export interface SeccompPolicy {
  readonly defaultAction: 'SCMP_ACT_ALLOW';
  readonly architectures: readonly string[];
  readonly syscalls: readonly SeccompRule[];
}

export interface SeccompRule {
  readonly names: readonly string[];
  readonly action: 'SCMP_ACT_ERRNO';
  readonly errnoRet: number;
  readonly args?: ReadonlyArray<{ readonly index: number; readonly value: number; readonly valueTwo: number; readonly op: 'SCMP_CMP_MASKED_EQ' }>;
}

const EPERM = 1;
const ENOSYS = 38;

/** Syscalls refused outright with EPERM. */
export const DENIED_SYSCALLS: readonly string[] = [
  // namespaces (clone's flags are checked separately below)
  'unshare', 'setns',
  // kernel keyring, BPF, perf events, userfaultfd: reachable without capabilities
  'add_key', 'keyctl', 'request_key', 'bpf', 'perf_event_open', 'userfaultfd',
  // modules and kexec
  'init_module', 'finit_module', 'delete_module', 'create_module', 'query_module', 'get_kernel_syms',
  'kexec_load', 'kexec_file_load',
  // mounts, swap, reboot, clocks, accounting, quotas
  'mount', 'umount', 'umount2', 'pivot_root', 'swapon', 'swapoff', 'reboot', 'acct', 'quotactl',
  'settimeofday', 'stime', 'clock_settime', 'clock_adjtime', 'syslog',
  // handle-based opens escape a chroot-like root
  'open_by_handle_at', 'name_to_handle_at',
  // NUMA policy and page moving (CAP_SYS_NICE in Docker's profile)
  'mbind', 'set_mempolicy', 'get_mempolicy', 'move_pages',
  // raw port I/O and obsolete or debugging calls
  'ioperm', 'iopl', 'lookup_dcookie', 'nfsservctl', 'sysfs', '_sysctl', 'uselib', 'ustat', 'vm86', 'vm86old',
];

/** clone(2) flags that create a namespace; clone with any of them is refused. */
export const CLONE_NAMESPACE_FLAGS: readonly number[] = [
  0x00020000, // CLONE_NEWNS
  0x02000000, // CLONE_NEWCGROUP
  0x04000000, // CLONE_NEWUTS
  0x08000000, // CLONE_NEWIPC
  0x10000000, // CLONE_NEWUSER
  0x20000000, // CLONE_NEWPID
  0x40000000, // CLONE_NEWNET
];

/** seccomp architectures for the host: the native one plus its 32-bit and x32 companions. */
export function seccompArchitectures(arch: string = process.arch): string[] {
  switch (arch) {
    case 'x64':
      return ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
    case 'arm64':
      return ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];
    case 'ia32':
      return ['SCMP_ARCH_X86'];
    case 'arm':
      return ['SCMP_ARCH_ARM'];
    case 'ppc64':
      return ['SCMP_ARCH_PPC64LE'];
    case 's390x':
      return ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'];
    default:
      return [];
  }
}

/** The filter for a sandboxed step on this host. */
export function sandboxSeccomp(arch: string = process.arch): SeccompPolicy {
  // clone's flags are argument 0 everywhere except s390/s390x, where the stack comes first.
  const flagsArg = arch === 's390x' ? 1 : 0;
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: seccompArchitectures(arch),
    syscalls: [
      { names: DENIED_SYSCALLS, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
      // Conditions of one rule are ANDed; one rule per flag makes "any of these flags" an OR.
      ...CLONE_NAMESPACE_FLAGS.map((flag): SeccompRule => ({
        names: ['clone'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: EPERM,
        args: [{ index: flagsArg, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }],
      })),
      // clone3 passes its flags in memory, which seccomp cannot read: ENOSYS makes libc use clone.
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
    ],
  };
}
