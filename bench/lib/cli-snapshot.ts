/**
 * A private copy of the built CLI for one benchmark run. The working tree is shared and `dist/` is
 * rebuilt by others at any time; a run that spawns `dist/bin/tsbuild.cjs` a hundred times over
 * twenty minutes would otherwise mix versions or die on a half-written file. The copy holds
 * dist/bin (the bundled CLI), package.json, a symlink to node_modules and the native files
 * (native/build/Release/tsbuild_sys.node and tsbuild-run-init, found by walking up from the bundle
 * as in the tree it was built in: without the module every mount and unmount would fork the daemon
 * for mount(8)/umount(8), without tsbuild-run-init every RUN's runc would compile its seccomp filter
 * — neither of which a built tree does).
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TsbuildError } from '../../src/util/errors.js';
import { repoRoot } from './paths.js';
import { runCommand } from './run-command.js';

const RELEASE = join('native', 'build', 'Release');
/**
 * What npm run build leaves in native/build/Release that the engine uses: the module, and
 * tsbuild-run-init (RUN steps' precompiled seccomp filter, src/worker/exec/seccomp-preload.ts;
 * without it every RUN's runc compiles the filter itself, ~15 ms of CPU each).
 */
const NATIVE_FILES = ['tsbuild_sys.node', 'tsbuild-run-init'];

/**
 * Copies the CLI into `dir` and returns the path of its entry point; checks that it starts.
 * `dist`: another build's dist/ directory to take it from (a before/after comparison); default
 * this repository's.
 */
export async function snapshotCli(dir: string, opts: { readonly signal: AbortSignal; readonly dist?: string }): Promise<string> {
  const dist = opts.dist ?? join(repoRoot, 'dist');
  const bin = join(dist, 'bin');
  if (!existsSync(join(bin, 'tsbuild.mjs'))) throw new TsbuildError('BENCH_NOT_BUILT', `${join(bin, 'tsbuild.mjs')} is missing: run npm run build first`);
  await mkdir(join(dir, 'dist'), { recursive: true });
  await cp(bin, join(dir, 'dist', 'bin'), { recursive: true });
  await cp(join(repoRoot, 'package.json'), join(dir, 'package.json'));
  await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  // The native files of the tree `dist` was built in (beside it, as npm run build leaves them).
  await mkdir(join(dir, RELEASE), { recursive: true });
  for (const name of NATIVE_FILES) {
    const native = join(dirname(dist), RELEASE, name);
    if (!existsSync(native)) throw new TsbuildError('BENCH_NOT_BUILT', `${native} is missing: a dist/ is measured with the native files it was built with (copy them beside that dist/)`);
    await cp(native, join(dir, RELEASE, name));
  }
  const entry = join(dir, 'dist', 'bin', 'tsbuild.cjs');
  // --version loads the whole bundle: a copy taken mid-rebuild fails here, not later.
  const r = await runCommand(process.execPath, [entry, '--version'], { signal: opts.signal, env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.code !== 0) throw new TsbuildError('BENCH_CLI_BROKEN', `the built CLI does not start (is someone rebuilding dist/? retry in a minute):\n${r.stderr.trim().split('\n').slice(0, 6).join('\n')}`);
  return entry;
}
