/* What tsbuild_sys.c shares with the module's other source files (spawn.c). */
#ifndef TSBUILD_SYS_H
#define TSBUILD_SYS_H
#include <node_api.h>

#define CHECK(call)                                                                                \
  do {                                                                                             \
    if ((call) != napi_ok) {                                                                       \
      napi_throw_error(env, NULL, "tsbuild_sys: " #call " failed");                               \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)

/* A JS string argument as a malloc'd C string; NULL for null/undefined when `nullable`. */
int tsbuild_get_string(napi_env env, napi_value v, int nullable, char **out);
/* Throws an Error as Node's fs errors are: code "ENOENT", errno -2, syscall, path. */
napi_value tsbuild_throw_errno(napi_env env, int err, const char *syscall, const char *path);
/* Adds spawn (spawn.c) to the module's exports. */
napi_status tsbuild_spawn_init(napi_env env, napi_value exports);
#endif
