#!/usr/bin/env node
// Builds native/ (tsbuild_sys: mount, umount2, utimensat, mknod; see native/tsbuild_sys.c; and the
// static tsbuild-run-init, native/run-init.c) with
// node-gyp against the headers of the Node that runs this script, never downloaded ones: the
// machines tsbuild is built on reach only the npm registry. Run by `npm run build`.
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const prefix = dirname(dirname(process.execPath));
const nodeDir = process.env['npm_config_nodedir'] || (existsSync(join(prefix, 'include/node/node_api.h')) ? prefix : undefined);
const gyp = [
  process.env['npm_config_node_gyp'],
  join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
].find((p) => p !== undefined && p !== '' && existsSync(p));
if (gyp === undefined) {
  console.error('build-native: node-gyp not found (it comes with npm); cannot build native/tsbuild_sys');
  process.exit(1);
}
const args = [gyp, 'rebuild', '--directory', join(root, 'native'), '--loglevel=warn', ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

// tsbuild-run-init (native/run-init.c): the program that loads a RUN step's precompiled seccomp
// filter in the container (src/worker/exec/seccomp-preload.ts). Static: a container's root file
// system may have no C library. Written under a temporary name and renamed, so a running engine
// never execs a half-written file.
const cc = process.env['CC'] || 'cc';
const out = join(root, 'native', 'build', 'Release', 'tsbuild-run-init');
const c = spawnSync(cc, ['-static', '-O2', '-s', '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-o', `${out}.tmp`, join(root, 'native', 'run-init.c')], { stdio: 'inherit' });
if (c.status !== 0) {
  console.error(`build-native: ${cc} could not build tsbuild-run-init (a static C library is needed: apt-get install libc6-dev)`);
  process.exit(c.status ?? 1);
}
renameSync(`${out}.tmp`, out);
