/*
 * seccomp probe: tries a list of system calls and prints one line per call, `NAME ok` or
 * `NAME errno=N` (or `NAME signal=N` when the call killed the process), in a fixed order. Run in a
 * RUN step of tsbuild and of `docker build`, the two outputs must be equal line for line: that is
 * how the seccomp filter of a sandboxed step (src/worker/exec/seccomp.ts) is compared with Docker's
 * default profile (test/compat/seccomp-probe.test.ts).
 *
 * Every call runs in its own forked child, so one that succeeds (a new user namespace, a
 * personality change) cannot affect the next. Arguments are chosen so that a call that gets past the
 * filter fails harmlessly (EINVAL, EBADF, EFAULT, ENOENT: bad pointers, bad descriptors, invalid
 * flags or magic numbers) or does nothing lasting; none changes the system or blocks. The errno
 * tells "refused by the filter" (EPERM; ENOSYS for clone3 and for numbers past the filter's last
 * known call) from "refused by the kernel".
 *
 * x86_64 only (raw syscall numbers, int $0x80 for the i386 entry). Compiled by the tests with
 * `gcc -static` (test/helpers/seccomp-probe.ts); never committed as a binary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __x86_64__
#error "the seccomp probe is written for x86_64"
#endif

#define AF_VSOCK_ 40
#define BAD_PATH "/nonexistent-seccomp-probe"
#define BAD_PTR ((void *)1)

/* Syscall numbers newer than Debian 12's headers (x86_64 table). */
#define NR_cachestat 451
#define NR_fchmodat2 452
#define NR_map_shadow_stack 453
#define NR_futex_wake 454
#define NR_statmount 457
#define NR_listmount 458
#define NR_lsm_list_modules 461
#define NR_mseal 462
#define NR_setxattrat 463
#define NR_file_getattr 468

static pid_t self(void) { return getpid(); }

/* A raw clone that behaves like fork; the child leaves at once, the caller reaps it. */
static long clone_flags(unsigned long flags) {
  long r = syscall(SYS_clone, flags | SIGCHLD, 0, NULL, NULL, 0);
  if (r == 0) syscall(SYS_exit, 0);
  if (r > 0) waitpid((pid_t)r, NULL, 0);
  return r;
}

/* A call through the i386 entry (int $0x80), which seccomp sees as the x86 architecture. */
static long i386_call(long nr, long a1) {
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a1) : "memory");
  if (r < 0 && r > -4096) {
    errno = (int)-r;
    return -1;
  }
  return r;
}

#define P(name, expr) static long p_##name(void) { return (long)(expr); }

/* namespaces */
P(unshare_newuser, syscall(SYS_unshare, CLONE_NEWUSER))
P(unshare_newns, syscall(SYS_unshare, CLONE_NEWNS))
P(unshare_none, syscall(SYS_unshare, 0))
P(setns_badfd, syscall(SYS_setns, -1, 0))
P(clone_plain, clone_flags(0))
P(clone_newuser, clone_flags(CLONE_NEWUSER))
P(clone_newns, clone_flags(CLONE_NEWNS))
P(clone_newnet, clone_flags(CLONE_NEWNET))
P(clone3_null, syscall(SYS_clone3, NULL, 0))
/* personality: Docker allows only 0x0, 0x8, 0x20000, 0x20008 and 0xffffffff (the query) */
P(personality_query, syscall(SYS_personality, 0xffffffffUL))
P(personality_linux, syscall(SYS_personality, 0x0UL))
P(personality_linux32, syscall(SYS_personality, 0x8UL))
P(personality_uname26, syscall(SYS_personality, 0x20000UL))
P(personality_uname26_linux32, syscall(SYS_personality, 0x20008UL))
P(personality_addr_no_randomize, syscall(SYS_personality, 0x0040000UL))
P(personality_read_implies_exec, syscall(SYS_personality, 0x0400000UL))
/* process inspection */
P(ptrace_no_such_pid, syscall(SYS_ptrace, 7 /* PTRACE_CONT */, 0, 0, 0))
P(kcmp_self, syscall(SYS_kcmp, self(), self(), 0 /* KCMP_FILE */, 0, 0))
P(process_vm_readv_self, syscall(SYS_process_vm_readv, self(), NULL, 0, NULL, 0, 0))
P(process_vm_writev_self, syscall(SYS_process_vm_writev, self(), NULL, 0, NULL, 0, 0))
P(process_madvise_badfd, syscall(SYS_process_madvise, -1, NULL, 0, 0, 0))
P(pidfd_getfd_badfd, syscall(SYS_pidfd_getfd, -1, 0, 0))
P(pidfd_open_self, syscall(SYS_pidfd_open, self(), 0))
P(process_mrelease_badfd, syscall(SYS_process_mrelease, -1, 0))
/* keyring, BPF, perf, userfaultfd, io_uring, fanotify */
P(keyctl_bad_op, syscall(SYS_keyctl, 9999, 0, 0, 0, 0))
P(add_key_null, syscall(SYS_add_key, NULL, NULL, NULL, 0, 0))
P(request_key_null, syscall(SYS_request_key, NULL, NULL, NULL, 0))
P(bpf_bad_cmd, syscall(SYS_bpf, 9999, NULL, 0))
P(perf_event_open_null, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0))
P(userfaultfd_bad_flags, syscall(SYS_userfaultfd, 0x7fff0000))
P(io_uring_setup_null, syscall(SYS_io_uring_setup, 1, NULL))
P(fanotify_init_bad_flags, syscall(SYS_fanotify_init, 0xffffffffUL, 0))
/* mounts and roots */
P(mount_null, syscall(SYS_mount, NULL, NULL, NULL, 0, NULL))
P(umount2_missing, syscall(SYS_umount2, BAD_PATH, 0))
P(pivot_root_null, syscall(SYS_pivot_root, NULL, NULL))
P(chroot_missing, syscall(SYS_chroot, BAD_PATH))
P(fsopen_null, syscall(SYS_fsopen, NULL, 0))
P(fsconfig_badfd, syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0))
P(fsmount_badfd, syscall(SYS_fsmount, -1, 0, 0))
P(fspick_null, syscall(SYS_fspick, -1, NULL, 0))
P(open_tree_null, syscall(SYS_open_tree, -1, NULL, 0))
P(move_mount_null, syscall(SYS_move_mount, -1, NULL, -1, NULL, 0))
P(mount_setattr_null, syscall(SYS_mount_setattr, -1, NULL, 0, NULL, 0))
P(name_to_handle_at_null, syscall(SYS_name_to_handle_at, -1, NULL, NULL, NULL, 0))
P(open_by_handle_at_null, syscall(SYS_open_by_handle_at, -1, NULL, 0))
P(quotactl_bad_cmd, syscall(SYS_quotactl, -1, NULL, 0, NULL))
P(quotactl_fd_badfd, syscall(SYS_quotactl_fd, -1, 0, 0, NULL))
P(swapon_null, syscall(SYS_swapon, NULL, 0))
P(swapoff_null, syscall(SYS_swapoff, NULL))
/* machine administration: every one with an argument the kernel rejects */
P(reboot_bad_magic, syscall(SYS_reboot, 0, 0, 0, NULL))
P(kexec_load_bad_flags, syscall(SYS_kexec_load, 0, 0, NULL, 0x8000UL))
P(kexec_file_load_bad_flags, syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0x8000UL))
P(init_module_null, syscall(SYS_init_module, NULL, 0, ""))
P(finit_module_badfd, syscall(SYS_finit_module, -1, "", 0))
P(delete_module_null, syscall(SYS_delete_module, NULL, 0))
P(acct_bad_ptr, syscall(SYS_acct, BAD_PTR))
P(syslog_size, syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0))
P(sethostname_bad_len, syscall(SYS_sethostname, "", -1))
P(setdomainname_bad_len, syscall(SYS_setdomainname, "", -1))
P(iopl_bad_level, syscall(SYS_iopl, 4))
P(ioperm_bad_range, syscall(SYS_ioperm, 0x10000UL, 1, 0))
/* clocks */
P(clock_settime_null, syscall(SYS_clock_settime, 0, NULL))
P(settimeofday_bad_ptr, syscall(SYS_settimeofday, BAD_PTR, NULL))
P(clock_adjtime_null, syscall(SYS_clock_adjtime, 0, NULL))
P(adjtimex_null, syscall(SYS_adjtimex, NULL))
/* NUMA policy and page moving */
P(mbind_empty, syscall(SYS_mbind, NULL, 0, 0, NULL, 0, 0))
P(set_mempolicy_bad_mode, syscall(SYS_set_mempolicy, 99, NULL, 0))
P(get_mempolicy_query, syscall(SYS_get_mempolicy, NULL, NULL, 0, NULL, 0))
P(move_pages_none, syscall(SYS_move_pages, 0, 0, NULL, NULL, NULL, 0))
P(migrate_pages_none, syscall(SYS_migrate_pages, 0, 0, NULL, NULL))
P(set_mempolicy_home_node_empty, syscall(SYS_set_mempolicy_home_node, 0, 0, 0, 0))
/* memory and descriptors */
P(pkey_alloc, syscall(SYS_pkey_alloc, 0, 0))
P(memfd_create, syscall(SYS_memfd_create, "probe", 0))
P(memfd_secret, syscall(SYS_memfd_secret, 0))
P(openat2_null, syscall(SYS_openat2, -1, NULL, NULL, 0))
P(landlock_abi_version, syscall(SYS_landlock_create_ruleset, NULL, 0, 1 /* LANDLOCK_CREATE_RULESET_VERSION */))
P(futex_waitv_null, syscall(SYS_futex_waitv, NULL, 0, 0, NULL, 0))
P(seccomp_get_notif_sizes_null, syscall(SYS_seccomp, 3 /* SECCOMP_GET_NOTIF_SIZES */, 0, NULL))
P(socket_inet, socket(AF_INET, SOCK_DGRAM, 0))
P(socket_vsock, socket(AF_VSOCK_, SOCK_STREAM, 0))
/* obsolete or removed calls */
P(uselib_null, syscall(SYS_uselib, NULL))
P(ustat_null, syscall(SYS_ustat, 0, NULL))
P(sysfs_count, syscall(SYS_sysfs, 3))
P(sysctl_null, syscall(SYS__sysctl, NULL))
P(nfsservctl, syscall(SYS_nfsservctl, 0, NULL, NULL))
P(create_module, syscall(SYS_create_module, NULL, 0))
P(tuxcall, syscall(SYS_tuxcall))
P(vserver, syscall(SYS_vserver))
P(lookup_dcookie_null, syscall(SYS_lookup_dcookie, 0, NULL, 0))
/* calls the kernel added after Docker 20.10's profile was written */
P(cachestat_badfd, syscall(NR_cachestat, -1, NULL, NULL, 0))
P(fchmodat2_null, syscall(NR_fchmodat2, -1, NULL, 0, 0))
P(map_shadow_stack_empty, syscall(NR_map_shadow_stack, 0, 0, 0xffffffffUL))
P(futex_wake_null, syscall(NR_futex_wake, NULL, 0, 0, 0xffffffffUL))
P(statmount_null, syscall(NR_statmount, NULL, NULL, 0, 0))
P(listmount_null, syscall(NR_listmount, NULL, NULL, 0, 0))
P(lsm_list_modules_null, syscall(NR_lsm_list_modules, NULL, NULL, 0))
P(mseal_bad_flags, syscall(NR_mseal, 0, 0, 0xffUL))
P(setxattrat_null, syscall(NR_setxattrat, -1, NULL, 0, NULL, NULL, 0))
P(file_getattr_null, syscall(NR_file_getattr, -1, NULL, NULL, 0, 0))
/* uretprobe (6.11) is only for the uretprobe trampoline: a direct call gets SIGILL */
P(uretprobe, syscall(335))
/* numbers no kernel assigns: a hole in the table, and far past its end */
P(nr_400_unassigned, syscall(400))
P(nr_600_unassigned, syscall(600))
P(nr_1000_unassigned, syscall(1000))
/* the other ABIs Docker's filter lists for x86_64 */
P(x32_getpid, syscall(0x40000000L | 39))
P(i386_getpid, i386_call(20, 0))

struct probe {
  const char *name;
  long (*fn)(void);
};

#define E(name) { #name, p_##name }
static const struct probe probes[] = {
  E(unshare_newuser), E(unshare_newns), E(unshare_none), E(setns_badfd),
  E(clone_plain), E(clone_newuser), E(clone_newns), E(clone_newnet), E(clone3_null),
  E(personality_query), E(personality_linux), E(personality_linux32), E(personality_uname26),
  E(personality_uname26_linux32), E(personality_addr_no_randomize), E(personality_read_implies_exec),
  E(ptrace_no_such_pid), E(kcmp_self), E(process_vm_readv_self), E(process_vm_writev_self),
  E(process_madvise_badfd), E(pidfd_getfd_badfd), E(pidfd_open_self), E(process_mrelease_badfd),
  E(keyctl_bad_op), E(add_key_null), E(request_key_null), E(bpf_bad_cmd), E(perf_event_open_null),
  E(userfaultfd_bad_flags), E(io_uring_setup_null), E(fanotify_init_bad_flags),
  E(mount_null), E(umount2_missing), E(pivot_root_null), E(chroot_missing), E(fsopen_null),
  E(fsconfig_badfd), E(fsmount_badfd), E(fspick_null), E(open_tree_null), E(move_mount_null),
  E(mount_setattr_null), E(name_to_handle_at_null), E(open_by_handle_at_null), E(quotactl_bad_cmd),
  E(quotactl_fd_badfd), E(swapon_null), E(swapoff_null),
  E(reboot_bad_magic), E(kexec_load_bad_flags), E(kexec_file_load_bad_flags), E(init_module_null),
  E(finit_module_badfd), E(delete_module_null), E(acct_bad_ptr), E(syslog_size),
  E(sethostname_bad_len), E(setdomainname_bad_len), E(iopl_bad_level), E(ioperm_bad_range),
  E(clock_settime_null), E(settimeofday_bad_ptr), E(clock_adjtime_null), E(adjtimex_null),
  E(mbind_empty), E(set_mempolicy_bad_mode), E(get_mempolicy_query), E(move_pages_none),
  E(migrate_pages_none), E(set_mempolicy_home_node_empty),
  E(pkey_alloc), E(memfd_create), E(memfd_secret), E(openat2_null), E(landlock_abi_version),
  E(futex_waitv_null), E(seccomp_get_notif_sizes_null), E(socket_inet), E(socket_vsock),
  E(uselib_null), E(ustat_null), E(sysfs_count), E(sysctl_null), E(nfsservctl), E(create_module),
  E(tuxcall), E(vserver), E(lookup_dcookie_null),
  E(cachestat_badfd), E(fchmodat2_null), E(map_shadow_stack_empty), E(futex_wake_null),
  E(statmount_null), E(listmount_null), E(lsm_list_modules_null), E(mseal_bad_flags),
  E(setxattrat_null), E(file_getattr_null),
  E(uretprobe), E(nr_400_unassigned), E(nr_600_unassigned), E(nr_1000_unassigned),
  E(x32_getpid), E(i386_getpid),
};

/* What a child reports: the call's return value and errno (errno may exceed an exit status). */
struct outcome {
  long ret;
  int err;
  int done;
};

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct outcome *out = mmap(NULL, sizeof *out, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (out == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
    const struct probe *p = &probes[i];
    /* `probe NAME…` runs only the named probes. */
    if (argc > 1) {
      int wanted = 0;
      for (int a = 1; a < argc; a++) wanted |= strcmp(argv[a], p->name) == 0;
      if (!wanted) continue;
    }
    memset(out, 0, sizeof *out);
    pid_t pid = fork();
    if (pid < 0) {
      printf("%s fork-failed errno=%d\n", p->name, errno);
      return 1;
    }
    if (pid == 0) {
      alarm(10); /* nothing here should block; never hang the build if something does */
      errno = 0;
      long r = p->fn();
      out->err = errno;
      out->ret = r;
      out->done = 1;
      _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status) && !out->done) printf("%s signal=%d\n", p->name, WTERMSIG(status));
    else if (!out->done) printf("%s exited=%d\n", p->name, WEXITSTATUS(status));
    else if (out->ret == -1) printf("%s errno=%d\n", p->name, out->err);
    else printf("%s ok\n", p->name);
  }
  return 0;
}
