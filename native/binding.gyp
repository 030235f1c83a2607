# tsbuild's one native module: the few Linux system calls Node has no API for (mount, umount2,
# utimensat with nanoseconds on a symlink, mknod) and a spawn without a fork (spawn.c), so that a
# RUN step or a COPY does not fork a child process for each (a spawn blocks the daemon's event
# loop for the fork of its whole heap).
# Built by `npm run build` (node-gyp, with the headers of the installed Node: no download).
{
  "targets": [
    {
      "target_name": "tsbuild_sys",
      "sources": ["tsbuild_sys.c", "spawn.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2"]
    }
  ]
}
