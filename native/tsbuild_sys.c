/*
 * tsbuild_sys: the Linux system calls Node has no API for, as a Node-API module.
 *
 * Why: the daemon ran mount(8), umount(8), touch(1) and mknod(1) as child processes. A spawn forks
 * the daemon (its whole address space's page tables) while the event loop waits, then execs; at a
 * few hundred MB of heap that is 10-30 ms of a stopped event loop per call on this machine, and a
 * RUN step needed two of them, a COPY below existing directories one per directory. These calls
 * take microseconds.
 *
 *   mount(cwd, source, target, fstype, flags, data) -> Promise<void>
 *       mount(2) run on a thread of its own whose working directory is `cwd` (null: the process's),
 *       so that relative overlay lower paths resolve against the data root without changing the
 *       process's working directory (unshare(CLONE_FS) affects that one thread only).
 *   umount(target, flags) -> Promise<void>                    umount2(2)
 *   lutimes(path, atimeSec, atimeNsec, mtimeSec, mtimeNsec)   utimensat(2), AT_SYMLINK_NOFOLLOW
 *   mknod(path, mode, major, minor)                           mknod(2); mode carries the file type
 *
 * Failures throw (or reject with) an Error whose `code` is the errno name ("EBUSY"), `errno` the
 * negative errno as Node's own fs errors have it, and `syscall` the call's name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define CHECK(call)                                                                                \
  do {                                                                                             \
    if ((call) != napi_ok) {                                                                       \
      napi_throw_error(env, NULL, "tsbuild_sys: " #call " failed");                               \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)

/* A JS string argument as a malloc'd C string; NULL for null/undefined when `nullable`. */
static int get_string(napi_env env, napi_value v, int nullable, char **out) {
  napi_valuetype t;
  *out = NULL;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (nullable && (t == napi_null || t == napi_undefined)) return 0;
  if (t != napi_string) return -1;
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return -1;
  char *s = malloc(len + 1);
  if (s == NULL) return -1;
  if (napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    return -1;
  }
  if (strlen(s) != len) { /* an embedded NUL would silently shorten the path */
    free(s);
    return -1;
  }
  *out = s;
  return 0;
}

static int get_number(napi_env env, napi_value v, double *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return -1;
  return napi_get_value_double(env, v, out) == napi_ok ? 0 : -1;
}

static napi_value errno_error(napi_env env, int err, const char *syscall, const char *path) {
  const char *name = strerrorname_np(err);
  char code[32];
  snprintf(code, sizeof code, "%s", name ? name : "EUNKNOWN");
  char msg[4200];
  snprintf(msg, sizeof msg, "%s: %s, %s '%s'", code, strerror(err), syscall, path ? path : "");
  napi_value jcode, jmsg, error, jerrno, jsyscall;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &jcode);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg);
  napi_create_error(env, jcode, jmsg, &error);
  napi_create_int32(env, -err, &jerrno);
  napi_set_named_property(env, error, "errno", jerrno);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &jsyscall);
  napi_set_named_property(env, error, "syscall", jsyscall);
  if (path) {
    napi_value jpath;
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &jpath);
    napi_set_named_property(env, error, "path", jpath);
  }
  return error;
}

static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_throw(env, errno_error(env, err, syscall, path));
  return NULL;
}

/* ---- mount / umount: async work on the libuv pool ---- */

typedef struct {
  int is_umount;
  char *cwd, *source, *target, *fstype, *data;
  unsigned long flags;
  int err;
  napi_deferred deferred;
  napi_async_work work;
} mount_job;

static void job_free(mount_job *j) {
  free(j->cwd);
  free(j->source);
  free(j->target);
  free(j->fstype);
  free(j->data);
  free(j);
}

/* The mount itself, on a thread whose fs attributes (working directory) are its own. */
static void *mount_thread(void *arg) {
  mount_job *j = arg;
  if (j->cwd != NULL) {
    if (unshare(CLONE_FS) != 0 || chdir(j->cwd) != 0) {
      j->err = errno;
      return NULL;
    }
  }
  j->err = mount(j->source, j->target, j->fstype, j->flags, j->data) == 0 ? 0 : errno;
  return NULL;
}

static void job_execute(napi_env env, void *data) {
  (void)env;
  mount_job *j = data;
  if (j->is_umount) {
    j->err = umount2(j->target, (int)j->flags) == 0 ? 0 : errno;
    return;
  }
  pthread_t t;
  int rc = pthread_create(&t, NULL, mount_thread, j);
  if (rc != 0) {
    j->err = rc;
    return;
  }
  pthread_join(t, NULL);
}

static void job_complete(napi_env env, napi_status status, void *data) {
  mount_job *j = data;
  if (status != napi_ok) {
    napi_value e = errno_error(env, ECANCELED, j->is_umount ? "umount2" : "mount", j->target);
    napi_reject_deferred(env, j->deferred, e);
  } else if (j->err != 0) {
    napi_reject_deferred(env, j->deferred, errno_error(env, j->err, j->is_umount ? "umount2" : "mount", j->target));
  } else {
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, j->deferred, undef);
  }
  napi_delete_async_work(env, j->work);
  job_free(j);
}

static napi_value queue_job(napi_env env, mount_job *j) {
  napi_value promise, name;
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok) {
    job_free(j);
    napi_throw_error(env, NULL, "tsbuild_sys: cannot create a promise");
    return NULL;
  }
  napi_create_string_utf8(env, j->is_umount ? "tsbuild_sys.umount" : "tsbuild_sys.mount", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, job_execute, job_complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    napi_reject_deferred(env, j->deferred, errno_error(env, EAGAIN, "mount", j->target));
    job_free(j);
  }
  return promise;
}

/* mount(cwd: string|null, source: string, target: string, fstype: string, flags: number, data: string|null) */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  mount_job *j = calloc(1, sizeof *j);
  if (j == NULL) return throw_errno(env, ENOMEM, "mount", NULL);
  double flags = 0;
  if (argc != 6 || get_string(env, argv[0], 1, &j->cwd) || get_string(env, argv[1], 0, &j->source) ||
      get_string(env, argv[2], 0, &j->target) || get_string(env, argv[3], 0, &j->fstype) ||
      get_number(env, argv[4], &flags) || get_string(env, argv[5], 1, &j->data)) {
    job_free(j);
    napi_throw_type_error(env, NULL, "mount(cwd, source, target, fstype, flags, data): bad arguments");
    return NULL;
  }
  j->flags = (unsigned long)flags;
  return queue_job(env, j);
}

/* umount(target: string, flags: number) */
static napi_value js_umount(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  mount_job *j = calloc(1, sizeof *j);
  if (j == NULL) return throw_errno(env, ENOMEM, "umount2", NULL);
  j->is_umount = 1;
  double flags = 0;
  if (argc != 2 || get_string(env, argv[0], 0, &j->target) || get_number(env, argv[1], &flags)) {
    job_free(j);
    napi_throw_type_error(env, NULL, "umount(target, flags): bad arguments");
    return NULL;
  }
  j->flags = (unsigned long)flags;
  return queue_job(env, j);
}

/* lutimes(path, atimeSec, atimeNsec, mtimeSec, mtimeNsec): the times of `path` itself, never a
 * symlink's target, to the nanosecond. */
static napi_value js_lutimes(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *path = NULL;
  double n[4];
  if (argc != 5 || get_string(env, argv[0], 0, &path) || get_number(env, argv[1], &n[0]) ||
      get_number(env, argv[2], &n[1]) || get_number(env, argv[3], &n[2]) || get_number(env, argv[4], &n[3])) {
    free(path);
    napi_throw_type_error(env, NULL, "lutimes(path, atimeSec, atimeNsec, mtimeSec, mtimeNsec): bad arguments");
    return NULL;
  }
  struct timespec ts[2] = {{(time_t)n[0], (long)n[1]}, {(time_t)n[2], (long)n[3]}};
  int rc = utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
  int err = errno;
  napi_value r = NULL;
  if (rc != 0) r = throw_errno(env, err, "utimensat", path);
  free(path);
  return r;
}

/* mknod(path, mode, major, minor): `mode` includes the file type bits (S_IFCHR, S_IFBLK, S_IFIFO). */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *path = NULL;
  double mode, major, minor;
  if (argc != 4 || get_string(env, argv[0], 0, &path) || get_number(env, argv[1], &mode) ||
      get_number(env, argv[2], &major) || get_number(env, argv[3], &minor)) {
    free(path);
    napi_throw_type_error(env, NULL, "mknod(path, mode, major, minor): bad arguments");
    return NULL;
  }
  int rc = mknod(path, (mode_t)mode, makedev((unsigned)major, (unsigned)minor));
  int err = errno;
  napi_value r = NULL;
  if (rc != 0) r = throw_errno(env, err, "mknod", path);
  free(path);
  return r;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"umount", NULL, js_umount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lutimes", NULL, js_lutimes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
