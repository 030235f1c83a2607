/**
 * The system calls a sandboxed RUN step may make: Docker's default seccomp profile as Docker 20.10
 * (and so the BuildKit inside it) applies it to RUN steps, as tsbuild's own typed data. Anything
 * not listed here is refused (seccomp.ts builds the filter). The tests run a probe program under
 * tsbuild and under `docker build` and compare every call's outcome
 * (test/compat/seccomp-probe.test.ts), so where this list and Docker's behaviour part, the test says so.
 *
 * Groups are by topic. Most are allowed outright; the rest carry a condition resolved when the
 * filter is built: a capability the step holds (a call that only does something with that
 * capability is allowed only to a step that has it), the host's architecture, or the kernel
 * version. This is Docker 20.10's list, the one it is compared with, not the newer one: that also
 * refuses io_uring and AF_VSOCK sockets and allows pkey_*, name_to_handle_at and the calls of later
 * kernels (cachestat, fchmodat2, mseal…), which under Docker 20.10 get EPERM (pkey_*,
 * name_to_handle_at) or ENOSYS (the calls past the last one listed).
 */

/** A capability name as the runtime spec spells it (`CAP_SYS_ADMIN`). */
export type Capability = `CAP_${string}`;

/** Architecture names in libseccomp's spelling, as the conditions below use them. */
export type SeccompArchName = 'amd64' | 'x86' | 'x32' | 'arm' | 'arm64' | 'ppc64le' | 's390' | 's390x' | 'riscv64';

/** A test on one argument: `arg === equals`, or with a mask `(arg & mask) === equals`. */
export interface ArgTest {
  readonly index: number;
  readonly equals: number;
  readonly mask?: number;
}

/** When a group takes part in the filter; every field given must hold. */
export interface GroupCondition {
  /** The step's (bounding) capabilities include this one. */
  readonly withCapability?: Capability;
  /** The step's capabilities do not include this one. */
  readonly withoutCapability?: Capability;
  /** The host's architecture is one of these. */
  readonly onArch?: readonly SeccompArchName[];
  /** The host's architecture is none of these. */
  readonly notOnArch?: readonly SeccompArchName[];
  /** The running kernel is at least this version (major, minor). */
  readonly minKernel?: readonly [number, number];
}

export interface SyscallGroup {
  /** What the group is, for readers of this file and of failing tests. */
  readonly topic: string;
  readonly names: readonly string[];
  /** `allow`, or refuse with this errno. */
  readonly outcome: 'allow' | { readonly errno: number };
  /** All must hold for the outcome to apply; when they do not, the call gets the default (EPERM). */
  readonly args?: readonly ArgTest[];
  readonly when?: GroupCondition;
}

const ENOSYS = 38;

/** clone(2) flags that create a namespace: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;

/** personality(2) values a step may set: PER_LINUX, PER_LINUX32, each with UNAME26, and 0xffffffff (query). */
export const PERSONALITY_VALUES: readonly number[] = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const allow = (topic: string, names: readonly string[], when?: GroupCondition): SyscallGroup =>
  when === undefined ? { topic, names, outcome: 'allow' } : { topic, names, outcome: 'allow', when };

export const SYSCALL_GROUPS: readonly SyscallGroup[] = [
  allow('files and descriptors', [
    'access', 'faccessat', 'faccessat2', 'creat', 'open', 'openat', 'openat2', 'close', 'close_range',
    'dup', 'dup2', 'dup3', 'pipe', 'pipe2', 'read', 'readv', 'pread64', 'preadv', 'preadv2', 'write',
    'writev', 'pwrite64', 'pwritev', 'pwritev2', 'lseek', '_llseek', 'fcntl', 'fcntl64', 'flock', 'ioctl',
    'fsync', 'fdatasync', 'sync', 'syncfs', 'sync_file_range', 'fadvise64', 'fadvise64_64', 'fallocate',
    'readahead', 'truncate', 'truncate64', 'ftruncate', 'ftruncate64', 'copy_file_range', 'sendfile',
    'sendfile64', 'splice', 'tee', 'vmsplice', 'memfd_create',
  ]),
  allow('paths and metadata', [
    'chdir', 'fchdir', 'getcwd', 'mkdir', 'mkdirat', 'rmdir', 'rename', 'renameat', 'renameat2', 'link',
    'linkat', 'symlink', 'symlinkat', 'unlink', 'unlinkat', 'readlink', 'readlinkat', 'mknod', 'mknodat',
    'stat', 'stat64', 'lstat', 'lstat64', 'fstat', 'fstat64', 'fstatat64', 'newfstatat', 'statx', 'statfs',
    'statfs64', 'fstatfs', 'fstatfs64', 'getdents', 'getdents64', 'chmod', 'fchmod', 'fchmodat', 'chown',
    'chown32', 'fchown', 'fchown32', 'fchownat', 'lchown', 'lchown32', 'umask', 'utime', 'utimes',
    'utimensat', 'utimensat_time64', 'futimesat',
  ]),
  allow('extended attributes', [
    'getxattr', 'lgetxattr', 'fgetxattr', 'setxattr', 'lsetxattr', 'fsetxattr', 'listxattr', 'llistxattr',
    'flistxattr', 'removexattr', 'lremovexattr', 'fremovexattr',
  ]),
  allow('waiting for events', [
    'poll', 'ppoll', 'ppoll_time64', 'select', '_newselect', 'pselect6', 'pselect6_time64', 'epoll_create',
    'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_wait', 'epoll_wait_old', 'epoll_pwait',
    'epoll_pwait2', 'eventfd', 'eventfd2', 'signalfd', 'signalfd4', 'timerfd_create', 'timerfd_gettime',
    'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64', 'inotify_init', 'inotify_init1',
    'inotify_add_watch', 'inotify_rm_watch', 'fanotify_mark',
  ]),
  allow('asynchronous I/O', [
    'io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents', 'io_pgetevents',
    'io_pgetevents_time64', 'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'ioprio_get',
    'ioprio_set',
  ]),
  allow('processes and threads', [
    'execve', 'execveat', 'fork', 'vfork', 'exit', 'exit_group', 'wait4', 'waitid', 'waitpid', 'getpid',
    'getppid', 'gettid', 'getpgid', 'setpgid', 'getpgrp', 'getsid', 'setsid', 'set_tid_address',
    'set_robust_list', 'get_robust_list', 'futex', 'futex_time64', 'futex_waitv', 'rseq',
    'restart_syscall', 'prctl', 'capget', 'capset', 'get_thread_area', 'set_thread_area', 'getcpu',
    'pidfd_open', 'pidfd_send_signal', 'process_mrelease', 'membarrier', 'seccomp', 'landlock_create_ruleset',
    'landlock_add_rule', 'landlock_restrict_self', 'getrlimit', 'setrlimit', 'ugetrlimit', 'prlimit64',
    'getrusage', 'getpriority', 'setpriority', 'times', 'sysinfo', 'uname', 'getrandom',
  ]),
  allow('user and group ids', [
    'getuid', 'getuid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getegid', 'getegid32',
    'getresuid', 'getresuid32', 'getresgid', 'getresgid32', 'getgroups', 'getgroups32', 'setuid',
    'setuid32', 'setgid', 'setgid32', 'setreuid', 'setreuid32', 'setregid', 'setregid32', 'setresuid',
    'setresuid32', 'setresgid', 'setresgid32', 'setfsuid', 'setfsuid32', 'setfsgid', 'setfsgid32',
    'setgroups', 'setgroups32',
  ]),
  allow('signals', [
    'kill', 'tkill', 'tgkill', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo',
    'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo',
    'sigaltstack', 'sigprocmask', 'sigreturn', 'pause', 'alarm',
  ]),
  allow('clocks and timers (reading them; adjtimex and clock_adjtime change nothing without CAP_SYS_TIME)', [
    'clock_getres', 'clock_getres_time64', 'clock_gettime', 'clock_gettime64', 'clock_nanosleep',
    'clock_nanosleep_time64', 'nanosleep', 'gettimeofday', 'time', 'adjtimex', 'clock_adjtime',
    'clock_adjtime64', 'getitimer', 'setitimer', 'timer_create', 'timer_delete', 'timer_getoverrun',
    'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64',
  ]),
  allow('memory', [
    'brk', 'mmap', 'mmap2', 'munmap', 'mremap', 'mprotect', 'madvise', 'mincore', 'msync', 'mlock', 'mlock2',
    'mlockall', 'munlock', 'munlockall', 'remap_file_pages', 'memfd_secret',
  ]),
  allow('scheduling', [
    'sched_yield', 'sched_getaffinity', 'sched_setaffinity', 'sched_getattr', 'sched_setattr',
    'sched_getparam', 'sched_setparam', 'sched_getscheduler', 'sched_setscheduler', 'sched_get_priority_max',
    'sched_get_priority_min', 'sched_rr_get_interval', 'sched_rr_get_interval_time64',
  ]),
  allow('System V and POSIX IPC', [
    'ipc', 'msgget', 'msgctl', 'msgsnd', 'msgrcv', 'semget', 'semctl', 'semop', 'semtimedop',
    'semtimedop_time64', 'shmget', 'shmctl', 'shmat', 'shmdt', 'mq_open', 'mq_unlink', 'mq_getsetattr',
    'mq_notify', 'mq_timedsend', 'mq_timedsend_time64', 'mq_timedreceive', 'mq_timedreceive_time64',
  ]),
  allow('sockets', [
    'socket', 'socketpair', 'socketcall', 'bind', 'connect', 'listen', 'accept', 'accept4', 'getsockname',
    'getpeername', 'getsockopt', 'setsockopt', 'shutdown', 'send', 'sendto', 'sendmsg', 'sendmmsg', 'recv',
    'recvfrom', 'recvmsg', 'recvmmsg', 'recvmmsg_time64',
  ]),
  // Before 4.8 a tracer could change a traced call after seccomp had checked it.
  allow('ptrace, on kernels where seccomp cannot be bypassed with it', ['ptrace'], { minKernel: [4, 8] }),
  ...PERSONALITY_VALUES.map((value): SyscallGroup => ({
    topic: 'personality, only the execution domains Docker allows',
    names: ['personality'],
    outcome: 'allow',
    args: [{ index: 0, equals: value }],
  })),

  // Architecture-specific calls.
  allow('x86_64 thread state', ['arch_prctl'], { onArch: ['amd64', 'x32'] }),
  allow('x86 local descriptor table', ['modify_ldt'], { onArch: ['amd64', 'x32', 'x86'] }),
  allow('ARM cache and TLS calls', ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'], { onArch: ['arm', 'arm64'] }),
  allow('POWER argument order of sync_file_range', ['sync_file_range2'], { onArch: ['ppc64le'] }),
  allow('s390 PCI and runtime instrumentation', ['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr'], { onArch: ['s390', 's390x'] }),

  // Calls that only do something with a capability: allowed to a step that holds it.
  allow('handle-based open', ['open_by_handle_at'], { withCapability: 'CAP_DAC_READ_SEARCH' }),
  allow('namespaces, mounts, BPF, perf, fanotify, quotas, host and domain names, kernel log', [
    'unshare', 'setns', 'clone', 'clone3', 'mount', 'umount', 'umount2', 'mount_setattr', 'move_mount',
    'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'name_to_handle_at', 'bpf', 'perf_event_open',
    'fanotify_init', 'lookup_dcookie', 'quotactl', 'quotactl_fd', 'sethostname', 'setdomainname', 'syslog',
  ], { withCapability: 'CAP_SYS_ADMIN' }),
  // Without CAP_SYS_ADMIN: clone only without namespace flags (s390 passes the flags second).
  {
    topic: 'clone without namespace flags',
    names: ['clone'],
    outcome: 'allow',
    args: [{ index: 0, mask: CLONE_NAMESPACE_FLAGS, equals: 0 }],
    when: { withoutCapability: 'CAP_SYS_ADMIN', notOnArch: ['s390', 's390x'] },
  },
  {
    topic: 'clone without namespace flags (s390 argument order)',
    names: ['clone'],
    outcome: 'allow',
    args: [{ index: 1, mask: CLONE_NAMESPACE_FLAGS, equals: 0 }],
    when: { withoutCapability: 'CAP_SYS_ADMIN', onArch: ['s390', 's390x'] },
  },
  // clone3 passes its flags in memory, which a filter cannot read: ENOSYS makes libc fall back to clone.
  { topic: 'clone3, answered so that libc uses clone', names: ['clone3'], outcome: { errno: ENOSYS }, when: { withoutCapability: 'CAP_SYS_ADMIN' } },
  allow('reboot', ['reboot'], { withCapability: 'CAP_SYS_BOOT' }),
  allow('chroot', ['chroot'], { withCapability: 'CAP_SYS_CHROOT' }),
  allow('kernel modules', ['init_module', 'finit_module', 'delete_module'], { withCapability: 'CAP_SYS_MODULE' }),
  allow('process accounting', ['acct'], { withCapability: 'CAP_SYS_PACCT' }),
  allow('inspecting other processes', ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'], { withCapability: 'CAP_SYS_PTRACE' }),
  allow('port I/O', ['iopl', 'ioperm'], { withCapability: 'CAP_SYS_RAWIO' }),
  allow('setting the clock', ['settimeofday', 'stime', 'clock_settime'], { withCapability: 'CAP_SYS_TIME' }),
  allow('hanging up the terminal', ['vhangup'], { withCapability: 'CAP_SYS_TTY_CONFIG' }),
  allow('NUMA memory policy', ['get_mempolicy', 'mbind', 'set_mempolicy'], { withCapability: 'CAP_SYS_NICE' }),
  allow('kernel log', ['syslog'], { withCapability: 'CAP_SYSLOG' }),
];
