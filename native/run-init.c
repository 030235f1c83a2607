/*
 * tsbuild-run-init: installs a RUN step's seccomp filter, compiled once, instead of runc compiling
 * it at every RUN (src/worker/exec/seccomp-preload.ts).
 *
 * Why: runc turns the spec's `linux.seccomp` list into a BPF program through libseccomp in every
 * `runc init`: 16-17 ms of a bare `runc run` of ~39 ms on this machine (docs/benchmarks.md,
 * s16-seccomp), the same program every time. tsbuild captures the program runc loads once (mode
 * --dump-filter, below) and, for later RUNs, gives runc a spec without `linux.seccomp` whose
 * process is this program, started from an inherited fd (`/proc/self/fd/3`, so nothing is added to
 * the container's file system). It loads the captured program with the same flags and then execs
 * the step's command, at the point where runc itself would have loaded the filter (after the
 * capabilities are set and no_new_privs is on, right before the command's execve).
 *
 * Statically linked: the container's root file system may have no C library at all.
 *
 *   tsbuild-run-init --exec -- ARGV...   In the container. fd 3 is this program (closed here),
 *       fd 4 the filter file (8-byte flags, then the sock_filter array), fd 5 the start-error report
 *       (a file the engine reads). ARGV[0] is looked up on PATH as runc 1.1 does (Go 1.19's
 *       exec.LookPath); a lookup failure is written to fd 5 in runc's words (and to stderr with
 *       runc's prefix, as runc writes it there) and exits 1, as a runc start failure does; an execve failure is written to stderr and exits 1, as runc's init does.
 *   tsbuild-run-init --hold                In the capture container: says "ready" on stdout, then
 *       sleeps until killed (under the filter runc loaded).
 *   tsbuild-run-init --dump-filter PID     On the host, as root: writes the one seccomp filter of
 *       process PID (8-byte flags, then the program) to stdout, read with ptrace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define FD_SELF 3
#define FD_FILTER 4
#define FD_REPORT 5
#define MAX_INSNS 4096 /* BPF_MAXINSNS */

extern char **environ;

static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Go's error strings for the errnos a lookup or an exec can meet (Go's table is strerror's, lower case). */
static const char *go_errstr(int e, char *buf, size_t len) {
  snprintf(buf, len, "%s", strerror(e));
  if (buf[0] >= 'A' && buf[0] <= 'Z') buf[0] = (char)(buf[0] - 'A' + 'a');
  return buf;
}

/* strconv.Quote for the bytes of a name (printable ASCII as is, UTF-8 bytes kept, the rest escaped). */
static void go_quote(const char *s, char *out, size_t len) {
  size_t o = 0;
  if (len < 3) return;
  out[o++] = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p && o + 6 < len; p++) {
    unsigned char c = *p;
    const char *esc = NULL;
    switch (c) {
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      case '\a': esc = "\\a"; break;
      case '\b': esc = "\\b"; break;
      case '\f': esc = "\\f"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      case '\v': esc = "\\v"; break;
      default: break;
    }
    if (esc != NULL) {
      o += (size_t)snprintf(out + o, len - o, "%s", esc);
    } else if (c < 0x20 || c == 0x7f) {
      o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
    } else {
      out[o++] = (char)c;
    }
  }
  out[o++] = '"';
  out[o] = '\0';
}

/* A start failure, in the words runc's log gives after "unable to start container process: ". */
static void start_failure(const char *name, const char *why) {
  char quoted[8192];
  char msg[16384];
  go_quote(name, quoted, sizeof quoted);
  int n = snprintf(msg, sizeof msg, "exec: %s: %s", quoted, why);
  if (n > 0) {
    write_all(FD_REPORT, msg, strlen(msg));
    /* runc also says it on its stderr, which is the step's: the step's last lines show it. */
    dprintf(2, "runc run failed: unable to start container process: %s\n", msg);
  }
  _exit(1);
}

/* Go 1.19 findExecutable: 0, or an errno, or -1 for "permission denied" (not a regular executable). */
static int find_executable(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return errno;
  if (!S_ISDIR(st.st_mode) && (st.st_mode & 0111) != 0) return 0;
  return -1;
}

/*
 * Go's filepath.Clean, in place: the path LookPath returns is Join(dir, file), and it is what the
 * kernel passes to a script's interpreter as the script's name, so "/usr/bin/" + "x" must be
 * "/usr/bin/x" as under runc.
 */
static void go_clean(char *path) {
  int rooted = path[0] == '/';
  char *out = path;
  char *w = path;
  const char *r = path;
  size_t dotdot = 0; /* where ".." may no longer back up */
  if (rooted) {
    *w++ = '/';
    r++;
    dotdot = 1;
  }
  while (*r != '\0') {
    if (*r == '/') {
      r++;
    } else if (r[0] == '.' && (r[1] == '/' || r[1] == '\0')) {
      r++;
    } else if (r[0] == '.' && r[1] == '.' && (r[2] == '/' || r[2] == '\0')) {
      r += 2;
      if ((size_t)(w - out) > dotdot) {
        w--;
        while ((size_t)(w - out) > dotdot && *w != '/') w--;
      } else if (!rooted) {
        if (w != out) *w++ = '/';
        *w++ = '.';
        *w++ = '.';
        dotdot = (size_t)(w - out);
      }
    } else {
      if ((rooted && (size_t)(w - out) != 1) || (!rooted && w != out)) *w++ = '/';
      while (*r != '\0' && *r != '/') *w++ = *r++;
    }
  }
  if (w == out) *w++ = '.';
  *w = '\0';
}

static const char *look_path(const char *file, char *buf, size_t len) {
  char errbuf[128];
  if (strchr(file, '/') != NULL) {
    int e = find_executable(file);
    if (e == 0) return file;
    if (e < 0) start_failure(file, "permission denied");
    char why[8400];
    snprintf(why, sizeof why, "stat %s: %s", file, go_errstr(e, errbuf, sizeof errbuf));
    start_failure(file, why);
  }
  const char *path = getenv("PATH");
  if (path != NULL && path[0] != '\0') {
    const char *p = path;
    for (;;) {
      const char *end = strchr(p, ':');
      size_t dlen = end ? (size_t)(end - p) : strlen(p);
      const char *dir = p;
      if (dlen == 0) {
        dir = ".";
        dlen = 1;
      }
      if (dlen + 1 + strlen(file) + 1 <= len) {
        memcpy(buf, dir, dlen);
        buf[dlen] = '/';
        strcpy(buf + dlen + 1, file);
        go_clean(buf);
        if (find_executable(buf) == 0) {
          if (buf[0] != '/') start_failure(file, "cannot run executable found relative to current directory");
          return buf;
        }
      }
      if (end == NULL) break;
      p = end + 1;
    }
  }
  start_failure(file, "executable file not found in $PATH");
  return NULL;
}

static int run_exec(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "tsbuild-run-init: usage: --exec -- ARGV...\n");
    return 2;
  }
  close(FD_SELF);
  if (fcntl(FD_REPORT, F_SETFD, FD_CLOEXEC) != 0) {
    fprintf(stderr, "tsbuild-run-init: no start-error report on fd %d: %s\n", FD_REPORT, strerror(errno));
    return 1;
  }
  static struct {
    uint64_t flags;
    struct sock_filter insns[MAX_INSNS];
  } f;
  ssize_t got = 0;
  for (;;) {
    ssize_t n = read(FD_FILTER, (char *)&f + got, sizeof f - (size_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      fprintf(stderr, "tsbuild-run-init: cannot read the seccomp filter: %s\n", strerror(errno));
      return 1;
    }
    if (n == 0) break;
    got += n;
    if ((size_t)got == sizeof f) break;
  }
  close(FD_FILTER);
  size_t bytes = (size_t)got;
  if (bytes < sizeof f.flags + sizeof(struct sock_filter) || (bytes - sizeof f.flags) % sizeof(struct sock_filter) != 0) {
    fprintf(stderr, "tsbuild-run-init: the seccomp filter is malformed (%zu bytes)\n", bytes);
    return 1;
  }
  char *file = argv[3];
  char pathbuf[8192];
  const char *exe = look_path(file, pathbuf, sizeof pathbuf);
  struct sock_fprog prog = {
    .len = (unsigned short)((bytes - sizeof f.flags) / sizeof(struct sock_filter)),
    .filter = f.insns,
  };
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned int)f.flags, &prog) != 0) {
    fprintf(stderr, "tsbuild-run-init: cannot load the seccomp filter: %s\n", strerror(errno));
    return 1;
  }
  execve(exe, argv + 3, environ);
  /* As runc 1.1's init: "exec PATH: ERR" on stderr, status 1. */
  char errbuf[128];
  fprintf(stderr, "exec %s: %s\n", exe, go_errstr(errno, errbuf, sizeof errbuf));
  return 1;
}

static int run_hold(void) {
  if (write_all(1, "ready\n", 6) != 0) return 1;
  for (;;) sleep(1000);
}

static int run_dump(const char *pidarg) {
  char *end;
  long pid = strtol(pidarg, &end, 10);
  if (*end != '\0' || pid <= 0) {
    fprintf(stderr, "tsbuild-run-init: bad pid %s\n", pidarg);
    return 2;
  }
  if (ptrace(PTRACE_SEIZE, (pid_t)pid, 0, 0) != 0) {
    fprintf(stderr, "tsbuild-run-init: ptrace seize %ld: %s\n", pid, strerror(errno));
    return 1;
  }
  int status;
  if (ptrace(PTRACE_INTERRUPT, (pid_t)pid, 0, 0) != 0 || waitpid((pid_t)pid, &status, __WALL) < 0) {
    fprintf(stderr, "tsbuild-run-init: ptrace interrupt %ld: %s\n", pid, strerror(errno));
    return 1;
  }
  int rc = 1;
  long count = ptrace(PTRACE_SECCOMP_GET_FILTER, (pid_t)pid, 0, NULL);
  errno = 0;
  long second = ptrace(PTRACE_SECCOMP_GET_FILTER, (pid_t)pid, 1, NULL);
  int second_errno = errno;
  struct __ptrace_seccomp_metadata md = {.filter_off = 0, .flags = 0};
  static struct sock_filter insns[MAX_INSNS];
  if (count <= 0 || count > MAX_INSNS) {
    fprintf(stderr, "tsbuild-run-init: process %ld has no seccomp filter to read (%ld): %s\n", pid, count, strerror(errno));
  } else if (second >= 0 || second_errno != ENOENT) {
    fprintf(stderr, "tsbuild-run-init: process %ld has more than one seccomp filter\n", pid);
  } else if (ptrace(PTRACE_SECCOMP_GET_FILTER, (pid_t)pid, 0, insns) != count) {
    fprintf(stderr, "tsbuild-run-init: cannot read the seccomp filter of %ld: %s\n", pid, strerror(errno));
  } else if (ptrace(PTRACE_SECCOMP_GET_METADATA, (pid_t)pid, sizeof md, &md) < 0) {
    fprintf(stderr, "tsbuild-run-init: cannot read the seccomp filter flags of %ld: %s\n", pid, strerror(errno));
  } else {
    uint64_t flags = md.flags;
    if (write_all(1, &flags, sizeof flags) == 0 && write_all(1, insns, (size_t)count * sizeof insns[0]) == 0) rc = 0;
  }
  ptrace(PTRACE_DETACH, (pid_t)pid, 0, 0);
  return rc;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--exec") == 0) return run_exec(argc, argv);
  if (argc == 2 && strcmp(argv[1], "--hold") == 0) return run_hold();
  if (argc == 3 && strcmp(argv[1], "--dump-filter") == 0) return run_dump(argv[2]);
  fprintf(stderr, "tsbuild-run-init: usage: --exec -- ARGV... | --hold | --dump-filter PID\n");
  return 2;
}
