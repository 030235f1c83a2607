#!/usr/bin/env node
// Builds native/ (tsbuild_sys: mount, umount2, utimensat, mknod; see native/tsbuild_sys.c) with
// node-gyp against the headers of the Node that runs this script, never downloaded ones: the
// machines tsbuild is built on reach only the npm registry. Run by `npm run build`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
process.exit(r.status ?? 1);
