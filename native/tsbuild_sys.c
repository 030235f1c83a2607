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
 *   copyFiles(paths, meta) -> Promise<null | (Error|undefined)[]>
 *       a batch of small regular files copied with their metadata on one thread-pool thread (see
 *       copy_files below): a COPY of 1,000 small files is a few trips off the event loop instead of
 *       thousands of calls made from JavaScript.
 *   spawn(...)                                                 posix_spawn(3): see spawn.c
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
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/xattr.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tsbuild_sys.h"

/* A JS string argument as a malloc'd C string; NULL for null/undefined when `nullable`. */
int tsbuild_get_string(napi_env env, napi_value v, int nullable, char **out) {
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
  /* As Node words its own (libuv's): "ENOENT: no such file or directory, open '/x'". */
  size_t at = strlen(code) + 2;
  if (at < sizeof msg && msg[at] >= 'A' && msg[at] <= 'Z') msg[at] = (char)(msg[at] - 'A' + 'a');
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

napi_value tsbuild_throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_throw(env, errno_error(env, err, syscall, path));
  return NULL;
}

/* ---- promises for work on the libuv pool ---- */

typedef struct {
  napi_deferred deferred;
  napi_async_work work;
} async_header;

/*
 * Queues `data` (a job whose header is `h`) on the libuv pool: `run` there, `done` back on the
 * event loop (it deletes h->work and frees the job). Returns the job's promise; when the job cannot
 * be queued, `release(data)` frees it.
 */
static napi_value queue_async(napi_env env, const char *name, async_header *h, void *data, napi_async_execute_callback run,
                              napi_async_complete_callback done, void (*release)(void *), const char *syscall, const char *path) {
  napi_value promise, jname;
  if (napi_create_promise(env, &h->deferred, &promise) != napi_ok) {
    release(data);
    napi_throw_error(env, NULL, "tsbuild_sys: cannot create a promise");
    return NULL;
  }
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &jname);
  if (napi_create_async_work(env, NULL, jname, run, done, data, &h->work) != napi_ok || napi_queue_async_work(env, h->work) != napi_ok) {
    napi_reject_deferred(env, h->deferred, errno_error(env, EAGAIN, syscall, path));
    release(data);
  }
  return promise;
}

/* ---- mount / umount: async work on the libuv pool ---- */

typedef struct {
  async_header async;
  int is_umount;
  char *cwd, *source, *target, *fstype, *data;
  unsigned long flags;
  int err;
} mount_job;

static void job_free(void *data) {
  mount_job *j = data;
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
    napi_reject_deferred(env, j->async.deferred, e);
  } else if (j->err != 0) {
    napi_reject_deferred(env, j->async.deferred, errno_error(env, j->err, j->is_umount ? "umount2" : "mount", j->target));
  } else {
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_resolve_deferred(env, j->async.deferred, undef);
  }
  napi_delete_async_work(env, j->async.work);
  job_free(j);
}

static napi_value queue_job(napi_env env, mount_job *j) {
  return queue_async(env, j->is_umount ? "tsbuild_sys.umount" : "tsbuild_sys.mount", &j->async, j, job_execute, job_complete, job_free,
                     j->is_umount ? "umount2" : "mount", j->target);
}

/* mount(cwd: string|null, source: string, target: string, fstype: string, flags: number, data: string|null) */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  mount_job *j = calloc(1, sizeof *j);
  if (j == NULL) return tsbuild_throw_errno(env, ENOMEM, "mount", NULL);
  double flags = 0;
  if (argc != 6 || tsbuild_get_string(env, argv[0], 1, &j->cwd) || tsbuild_get_string(env, argv[1], 0, &j->source) ||
      tsbuild_get_string(env, argv[2], 0, &j->target) || tsbuild_get_string(env, argv[3], 0, &j->fstype) ||
      get_number(env, argv[4], &flags) || tsbuild_get_string(env, argv[5], 1, &j->data)) {
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
  if (j == NULL) return tsbuild_throw_errno(env, ENOMEM, "umount2", NULL);
  j->is_umount = 1;
  double flags = 0;
  if (argc != 2 || tsbuild_get_string(env, argv[0], 0, &j->target) || get_number(env, argv[1], &flags)) {
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
  if (argc != 5 || tsbuild_get_string(env, argv[0], 0, &path) || get_number(env, argv[1], &n[0]) ||
      get_number(env, argv[2], &n[1]) || get_number(env, argv[3], &n[2]) || get_number(env, argv[4], &n[3])) {
    free(path);
    napi_throw_type_error(env, NULL, "lutimes(path, atimeSec, atimeNsec, mtimeSec, mtimeNsec): bad arguments");
    return NULL;
  }
  struct timespec ts[2] = {{(time_t)n[0], (long)n[1]}, {(time_t)n[2], (long)n[3]}};
  int rc = utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
  int err = errno;
  napi_value r = NULL;
  if (rc != 0) r = tsbuild_throw_errno(env, err, "utimensat", path);
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
  if (argc != 4 || tsbuild_get_string(env, argv[0], 0, &path) || get_number(env, argv[1], &mode) ||
      get_number(env, argv[2], &major) || get_number(env, argv[3], &minor)) {
    free(path);
    napi_throw_type_error(env, NULL, "mknod(path, mode, major, minor): bad arguments");
    return NULL;
  }
  int rc = mknod(path, (mode_t)mode, makedev((unsigned)major, (unsigned)minor));
  int err = errno;
  napi_value r = NULL;
  if (rc != 0) r = tsbuild_throw_errno(env, err, "mknod", path);
  free(path);
  return r;
}

/* ---- copyFiles: a batch of small regular files on a thread-pool thread ----
 *
 * copyFiles(paths: string, meta: Float64Array) -> Promise<null | (Error | undefined)[]>
 *
 * `paths` holds, for each file, its source and its destination path, each followed by a NUL;
 * `meta` holds COPY_META numbers per file: uid, gid, permission bits (07777), flags (COPY_CHOWN:
 * give the new file uid:gid), atime and mtime in seconds (as Node's lutimes takes them, converted
 * the way libuv converts them, so the result is the same to the nanosecond as the JavaScript path),
 * and the size to copy. Per file, in this order (the order of src/worker/fileop/metadata.ts):
 * open the source (never following a symlink), create the destination exclusively, clone or copy
 * `size` bytes, fchown (when asked), fchmod, copy the extended attributes but overlay's own
 * (errors tolerated as the JavaScript path tolerates them), futimens, close. A file that fails is
 * removed again and reported with its own error at its index; the others still get copied. The
 * promise resolves to null when every file was copied.
 */
#define COPY_META 7
#define COPY_CHOWN 1
#define XATTR_NAMES 8192 /* bigger lists and values are read into a malloc of their size */
#define XATTR_VALUE 8192

typedef struct {
  int err;
  const char *syscall;
  const char *path;
} copy_failure;

typedef struct {
  async_header async;
  char *paths;   /* src\0dst\0 ... */
  double *meta;  /* COPY_META per file */
  size_t count;
  copy_failure *failures; /* count entries, err 0 = copied */
  size_t failed;
} copy_job;

static void copy_job_free(void *data) {
  copy_job *j = data;
  free(j->paths);
  free(j->meta);
  free(j->failures);
  free(j);
}

/* libuv's uv__fs_to_timespec, which Node's lutimes goes through (microseconds kept). */
static struct timespec seconds_to_timespec(double t) {
  struct timespec ts;
  ts.tv_sec = (time_t)t;
  ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
  ts.tv_nsec -= ts.tv_nsec % 1000;
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000;
    ts.tv_sec -= 1;
  }
  return ts;
}

static int overlay_xattr(const char *name) {
  return strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0;
}

/* What a batch learns once: whether clone and copy_file_range can work between its two trees. */
typedef struct {
  int no_clone, no_copy_range, no_sendfile;
  char names[XATTR_NAMES];
  char value[XATTR_VALUE];
} copy_state;

#define FAIL(call, p)                                                                              \
  do {                                                                                             \
    f->err = errno;                                                                                \
    f->syscall = (call);                                                                           \
    f->path = (p);                                                                                 \
    goto out;                                                                                      \
  } while (0)

/* Copies `size` bytes from `in` to `out`, by the cheapest way that works. 0, or -1 with errno. */
static int copy_bytes(copy_state *st, int in, int out, off_t size, const char **call) {
  if (size == 0) return 0;
  if (!st->no_clone) {
    *call = "ioctl";
    if (ioctl(out, FICLONE, in) == 0) return 0;
    /* As libuv's copyfile without FORCE: any failure falls back to copying; these will not change. */
    if (errno == EXDEV || errno == EOPNOTSUPP || errno == EINVAL || errno == ENOTTY || errno == ENOSYS) st->no_clone = 1;
  }
  off_t done = 0;
  while (done < size) {
    ssize_t n = -1;
    if (!st->no_copy_range) {
      *call = "copy_file_range";
      n = copy_file_range(in, NULL, out, NULL, (size_t)(size - done), 0);
      if (n < 0 && (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) && done == 0) {
        st->no_copy_range = 1;
        continue;
      }
    } else if (!st->no_sendfile) {
      *call = "sendfile";
      n = sendfile(out, in, NULL, (size_t)(size - done));
      if (n < 0 && (errno == EINVAL || errno == ENOSYS) && done == 0) {
        st->no_sendfile = 1;
        continue;
      }
    } else {
      *call = "read";
      size_t want = (size_t)(size - done) < sizeof st->value ? (size_t)(size - done) : sizeof st->value;
      n = read(in, st->value, want);
      if (n > 0) {
        *call = "write";
        for (ssize_t w = 0; w < n;) {
          ssize_t k = write(out, st->value + w, (size_t)(n - w));
          if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
          }
          w += k;
        }
      }
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break; /* the file shrank since it was looked at: copy what is there */
    done += n;
  }
  return 0;
}

/* Copies the extended attributes of `in` to `out`, overlay's own left out. 0, or -1 with errno. */
static int copy_xattrs(copy_state *st, int in, int out, const char **call) {
  char *names = st->names;
  *call = "flistxattr";
  ssize_t len = flistxattr(in, names, sizeof st->names);
  if (len < 0 && errno == ERANGE) {
    ssize_t need = flistxattr(in, NULL, 0);
    if (need < 0) return errno == EOPNOTSUPP ? 0 : -1;
    names = malloc((size_t)need + 1);
    if (names == NULL) return -1;
    len = flistxattr(in, names, (size_t)need);
  }
  int rc = 0;
  if (len < 0) {
    rc = errno == EOPNOTSUPP ? 0 : -1;
    goto done;
  }
  for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names + i) + 1) {
    const char *name = names + i;
    if (overlay_xattr(name)) continue;
    char *value = st->value;
    *call = "fgetxattr";
    ssize_t vlen = fgetxattr(in, name, value, sizeof st->value);
    if (vlen < 0 && errno == ERANGE) {
      ssize_t need = fgetxattr(in, name, NULL, 0);
      if (need >= 0) {
        value = malloc((size_t)need + 1);
        if (value == NULL) {
          rc = -1;
          goto done;
        }
        vlen = fgetxattr(in, name, value, (size_t)need);
      }
    }
    int ok = vlen >= 0;
    if (ok) {
      *call = "fsetxattr";
      ok = fsetxattr(out, name, value, (size_t)vlen, 0) == 0;
    }
    int err = errno;
    if (value != st->value) free(value);
    /* As copyXattrs: gone meanwhile, or a filesystem that takes none, is not an error. */
    if (!ok && err != ENODATA && err != EOPNOTSUPP) {
      errno = err;
      rc = -1;
      goto done;
    }
  }
done:
  if (names != st->names) {
    int err = errno;
    free(names);
    errno = err;
  }
  return rc;
}

static void copy_one(copy_state *st, const char *src, const char *dst, const double *m, copy_failure *f) {
  int in = -1, out = -1;
  const char *call = "open";
  in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (in < 0) FAIL("open", src);
  mode_t bits = (mode_t)m[2] & 07777;
  out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, bits & 0777);
  if (out < 0) FAIL("open", dst);
  if (copy_bytes(st, in, out, (off_t)m[6], &call) != 0) FAIL(call, dst);
  if (((int)m[3] & COPY_CHOWN) && fchown(out, (uid_t)m[0], (gid_t)m[1]) != 0) FAIL("fchown", dst);
  if (fchmod(out, bits) != 0) FAIL("fchmod", dst);
  if (copy_xattrs(st, in, out, &call) != 0) FAIL(call, dst);
  struct timespec ts[2] = {seconds_to_timespec(m[4]), seconds_to_timespec(m[5])};
  if (futimens(out, ts) != 0) FAIL("futimens", dst);
out:
  if (in >= 0) close(in);
  if (out >= 0) {
    if (close(out) != 0 && f->err == 0) {
      f->err = errno;
      f->syscall = "close";
      f->path = dst;
    }
    if (f->err != 0) unlink(dst);
  }
}

static void copy_execute(napi_env env, void *data) {
  (void)env;
  copy_job *j = data;
  copy_state *st = calloc(1, sizeof *st);
  const char *p = j->paths;
  for (size_t i = 0; i < j->count; i++) {
    const char *src = p;
    const char *dst = src + strlen(src) + 1;
    p = dst + strlen(dst) + 1;
    copy_failure *f = &j->failures[i];
    if (st == NULL) {
      f->err = ENOMEM;
      f->syscall = "malloc";
      f->path = dst;
    } else {
      copy_one(st, src, dst, j->meta + i * COPY_META, f);
    }
    if (f->err != 0) j->failed++;
  }
  free(st);
}

static void copy_complete(napi_env env, napi_status status, void *data) {
  copy_job *j = data;
  napi_value result;
  if (status != napi_ok) {
    napi_reject_deferred(env, j->async.deferred, errno_error(env, ECANCELED, "copyFiles", NULL));
  } else if (j->failed == 0) {
    napi_get_null(env, &result);
    napi_resolve_deferred(env, j->async.deferred, result);
  } else {
    napi_create_array_with_length(env, j->count, &result);
    for (size_t i = 0; i < j->count; i++) {
      copy_failure *f = &j->failures[i];
      if (f->err != 0) napi_set_element(env, result, (uint32_t)i, errno_error(env, f->err, f->syscall, f->path));
    }
    napi_resolve_deferred(env, j->async.deferred, result);
  }
  napi_delete_async_work(env, j->async.work);
  copy_job_free(j);
}

/* copyFiles(paths: string, meta: Float64Array) */
static napi_value js_copy_files(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  copy_job *j = calloc(1, sizeof *j);
  if (j == NULL) return tsbuild_throw_errno(env, ENOMEM, "copyFiles", NULL);
  bool typed = false;
  napi_typedarray_type type;
  size_t length = 0, plen = 0;
  void *values = NULL;
  napi_valuetype t;
  int bad = argc != 2 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_string ||
            napi_is_typedarray(env, argv[1], &typed) != napi_ok || !typed ||
            napi_get_typedarray_info(env, argv[1], &type, &length, &values, NULL, NULL) != napi_ok ||
            type != napi_float64_array || length % COPY_META != 0 ||
            napi_get_value_string_utf8(env, argv[0], NULL, 0, &plen) != napi_ok;
  if (!bad) {
    j->count = length / COPY_META;
    j->paths = malloc(plen + 1);
    j->meta = malloc(length * sizeof(double) + 1);
    j->failures = calloc(j->count + 1, sizeof *j->failures);
    bad = j->paths == NULL || j->meta == NULL || j->failures == NULL ||
          napi_get_value_string_utf8(env, argv[0], j->paths, plen + 1, &plen) != napi_ok;
  }
  if (!bad) {
    /* Exactly two NUL-terminated paths per file, none empty: a bad string never reads past the end. */
    size_t nuls = 0;
    for (size_t i = 0; i < plen; i++) {
      if (j->paths[i] != '\0') continue;
      if (i == 0 || j->paths[i - 1] == '\0') bad = 1;
      nuls++;
    }
    bad = bad || nuls != 2 * j->count || (plen > 0 && j->paths[plen - 1] != '\0');
  }
  if (bad) {
    copy_job_free(j);
    napi_throw_type_error(env, NULL, "copyFiles(paths, meta): bad arguments");
    return NULL;
  }
  memcpy(j->meta, values, length * sizeof(double));
  return queue_async(env, "tsbuild_sys.copyFiles", &j->async, j, copy_execute, copy_complete, copy_job_free, "copyFiles", NULL);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"umount", NULL, js_umount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lutimes", NULL, js_lutimes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_enumerable, NULL},
      {"copyFiles", NULL, js_copy_files, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  CHECK(tsbuild_spawn_init(env, exports));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
