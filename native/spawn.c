/*
 * spawn: a child process started by clone(CLONE_VM | CLONE_VFORK) instead of libuv's fork(2).
 *
 * Why: every RUN step starts `runc run` (under the run shim, src/worker/exec/run-shim.ts). Node's
 * child_process forks the daemon: the kernel copies the page tables of its whole address space
 * while the event loop waits, 3.5 ms on a quiet machine and 8-13 ms under load per RUN
 * (docs/benchmarks.md, s12-spawn and s13-examples). A CLONE_VM | CLONE_VFORK child runs on the
 * parent's memory until it execs (the parent's calling thread waits that long, ~0.1 ms): nothing
 * is copied. This is what glibc's posix_spawn does, written out because posix_spawn leaves glibc's
 * internal signals ignored in the new program (see child_main).
 *
 *   spawn(file, argv, envp, stdio, setsid, onExit) -> [pid, fd, fd, ...]
 *       file       the program's path (no PATH search)
 *       argv/envp  arrays of strings
 *       stdio      one kind per child fd 0..n-1: 0 /dev/null, 1 a pipe the child writes and the
 *                  parent reads, 2 a socket pair (both ways)
 *       setsid     the child gets a session (and process group) of its own
 *       onExit(code, signal)  called on the event loop once the child has ended; `signal` is the
 *                  terminating signal's number or 0, `code` the exit status or -1
 *   The returned array holds the pid, then the parent's end for each child fd (-1 for /dev/null),
 *   each close-on-exec so no other child inherits it. The child's signal mask is empty and every
 *   signal's disposition is the default (Node ignores SIGPIPE; runc and the shell must not).
 *
 * Reaping: a detached thread per child waits with waitid(WNOWAIT), which leaves the child a
 * zombie, and hands over to the event loop through a threadsafe function; there the child is
 * reaped and onExit called. Until then the pid cannot be reused, so a kill(2) from JavaScript
 * before onExit can never hit another process. libuv's SIGCHLD handler waits only for the pids it
 * spawned itself, so it never takes this status away.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tsbuild_sys.h"

#define MAX_STDIO 4 /* fds 0-3: see child_main */

typedef struct {
  pid_t pid;
  napi_threadsafe_function tsfn;
} waiter;

/* On the event loop: reap the child and call onExit(code, signal). */
static void call_on_exit(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)context;
  waiter *w = data;
  int status = 0;
  pid_t r;
  do r = waitpid(w->pid, &status, 0);
  while (r < 0 && errno == EINTR);
  if (env != NULL && js_cb != NULL) {
    napi_value args[2], undefined;
    int code = -1, sig = 0;
    if (r == w->pid && WIFEXITED(status)) code = WEXITSTATUS(status);
    else if (r == w->pid && WIFSIGNALED(status)) sig = WTERMSIG(status);
    napi_create_int32(env, code, &args[0]);
    napi_create_int32(env, sig, &args[1]);
    napi_get_undefined(env, &undefined);
    napi_call_function(env, undefined, js_cb, 2, args, NULL);
  }
  free(w);
}

static void *wait_thread(void *arg) {
  waiter *w = arg;
  siginfo_t info;
  int r;
  do r = waitid(P_PID, (id_t)w->pid, &info, WEXITED | WNOWAIT);
  while (r < 0 && errno == EINTR);
  napi_threadsafe_function tsfn = w->tsfn;
  if (napi_call_threadsafe_function(tsfn, w, napi_tsfn_blocking) != napi_ok) free(w);
  napi_release_threadsafe_function(tsfn, napi_tsfn_release);
  return NULL;
}

static void close_all(int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

/* A JS array of strings as a NULL-terminated malloc'd vector; NULL on failure. */
static char **get_strings(napi_env env, napi_value arr) {
  uint32_t n = 0;
  bool is_array = false;
  if (napi_is_array(env, arr, &is_array) != napi_ok || !is_array || napi_get_array_length(env, arr, &n) != napi_ok) return NULL;
  char **v = calloc((size_t)n + 1, sizeof *v);
  if (v == NULL) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, arr, i, &e) != napi_ok || tsbuild_get_string(env, e, 0, &v[i]) != 0) {
      for (uint32_t j = 0; j < i; j++) free(v[j]);
      free(v);
      return NULL;
    }
  }
  return v;
}

static void free_strings(char **v) {
  if (v == NULL) return;
  for (char **p = v; *p != NULL; p++) free(*p);
  free(v);
}

/* Makes the parent's and child's ends for each stdio slot; returns 0 or an errno. */
static int make_stdio(const int *kinds, int n, int *parent, int *child) {
  for (int i = 0; i < n; i++) {
    int p[2] = {-1, -1};
    if (kinds[i] == 0) {
      if ((child[i] = open("/dev/null", (i == 0 ? O_RDONLY : O_RDWR) | O_CLOEXEC)) < 0) return errno;
    } else if (kinds[i] == 1) {
      if (pipe2(p, O_CLOEXEC) != 0) return errno;
      parent[i] = p[0];
      child[i] = p[1];
    } else {
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0) return errno;
      parent[i] = p[0];
      child[i] = p[1];
    }
  }
  return 0;
}

typedef struct {
  const char *file;
  char **argv, **envp;
  const int *child;
  int n, setsid;
  volatile int err; /* written by the child (same memory) when it cannot exec */
} child_args;

/* The kernel's struct sigaction (x86-64, arm64): what rt_sigaction(2) takes. */
struct k_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  unsigned long mask;
};

/*
 * The child, on the parent's memory and a stack of its own until execve: raw system calls only (no
 * malloc, no locks). Every signal's disposition goes back to the default first — glibc's own
 * posix_spawn leaves its two internal signals (32, 33) ignored in the exec'd program, which
 * child_process does not and which would reach runc and the container — then the mask is cleared.
 */
static int child_main(void *arg) {
  child_args *c = arg;
  struct k_sigaction dfl = {SIG_DFL, 0, NULL, 0};
  for (int sig = 1; sig < 65; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
  unsigned long none = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
  if (c->setsid && syscall(SYS_setsid) < 0) goto fail;
  for (int i = 0; i < c->n; i++) {
    /* Sources are >= 3 (0-2 are open in Node) and only 3 can be a target above them, and it comes
       last: no dup2 overwrites a source still to be duplicated. */
    if (c->child[i] == i) {
      if (syscall(SYS_fcntl, i, F_SETFD, 0) < 0) goto fail;
    } else if (syscall(SYS_dup3, c->child[i], i, 0) < 0) {
      goto fail;
    }
  }
  syscall(SYS_execve, c->file, c->argv, c->envp);
fail:
  c->err = errno;
  syscall(SYS_exit_group, 127);
  return 127;
}

/* clone(CLONE_VM | CLONE_VFORK) of child_main; returns 0 or an errno (the child then reaped). */
static int do_spawn(pid_t *pid, child_args *c) {
  const size_t stack_size = 64 * 1024;
  char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return errno;
  /* No signal handler of the parent may run in the child before it has reset them all. */
  unsigned long all = ~0UL, old = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof all);
  c->err = 0;
  *pid = clone(child_main, stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, c);
  int err = *pid < 0 ? errno : 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
  munmap(stack, stack_size);
  if (err == 0 && c->err != 0) { /* the child ran but could not exec: it has exited */
    err = c->err;
    waitpid(*pid, NULL, 0);
  }
  return err;
}

/* Starts the thread that waits for `pid`; returns 0 or an errno (the child is then left running). */
static int start_waiter(napi_env env, napi_value on_exit, pid_t pid) {
  waiter *w = malloc(sizeof *w);
  if (w == NULL) return ENOMEM;
  w->pid = pid;
  napi_value name;
  napi_create_string_utf8(env, "tsbuild_sys.spawn", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, on_exit, NULL, name, 0, 1, NULL, NULL, NULL, call_on_exit, &w->tsfn) != napi_ok) {
    free(w);
    return EAGAIN;
  }
  pthread_attr_t ta;
  pthread_t t;
  pthread_attr_init(&ta);
  pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&ta, 64 * 1024);
  int err = pthread_create(&t, &ta, wait_thread, w);
  pthread_attr_destroy(&ta);
  if (err != 0) {
    napi_release_threadsafe_function(w->tsfn, napi_tsfn_abort);
    free(w);
  }
  return err;
}

static napi_value js_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  char *file = NULL;
  char **argv = NULL, **envp = NULL;
  int kinds[MAX_STDIO], parent[MAX_STDIO], child[MAX_STDIO];
  uint32_t n = 0;
  bool setsid = false, is_array = false;
  napi_valuetype cbt = napi_undefined;
  if (argc < 6 || tsbuild_get_string(env, a[0], 0, &file) != 0 || (argv = get_strings(env, a[1])) == NULL || argv[0] == NULL ||
      (envp = get_strings(env, a[2])) == NULL || napi_is_array(env, a[3], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, a[3], &n) != napi_ok || n > MAX_STDIO || napi_get_value_bool(env, a[4], &setsid) != napi_ok ||
      napi_typeof(env, a[5], &cbt) != napi_ok || cbt != napi_function) {
    free(file);
    free_strings(argv);
    free_strings(envp);
    napi_throw_type_error(env, NULL, "spawn(file, argv, envp, stdio, setsid, onExit): bad arguments");
    return NULL;
  }
  int bad = 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    int32_t k = -1;
    if (napi_get_element(env, a[3], i, &e) != napi_ok || napi_get_value_int32(env, e, &k) != napi_ok || k < 0 || k > 2) bad = 1;
    kinds[i] = k;
    parent[i] = child[i] = -1;
  }
  int err = bad ? EINVAL : make_stdio(kinds, (int)n, parent, child);
  pid_t pid = -1;
  child_args c = {file, argv, envp, child, (int)n, setsid, 0};
  if (err == 0) err = do_spawn(&pid, &c);
  close_all(child, (int)n);
  napi_value result = NULL;
  if (err == 0) {
    err = start_waiter(env, a[5], pid);
    if (err != 0) { /* nobody would ever reap it or hear of its end: do not leave it running */
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
    }
  }
  if (err != 0) {
    close_all(parent, (int)n);
    tsbuild_throw_errno(env, err, "spawn", file);
  } else {
    napi_create_array_with_length(env, (size_t)n + 1, &result);
    napi_value v;
    napi_create_int32(env, pid, &v);
    napi_set_element(env, result, 0, v);
    for (uint32_t i = 0; i < n; i++) {
      napi_create_int32(env, parent[i], &v);
      napi_set_element(env, result, i + 1, v);
    }
  }
  free(file);
  free_strings(argv);
  free_strings(envp);
  return result;
}

napi_status tsbuild_spawn_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"spawn", NULL, js_spawn, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
