/**
 * A private copy of the built CLI for one benchmark run. The working tree is shared and `dist/` is
 * rebuilt by others at any time; a run that spawns `dist/bin/tsbuild.cjs` a hundred times over
 * twenty minutes would otherwise mix versions or die on a half-written file. The copy holds
 * dist/bin (the bundled CLI), package.json, a symlink to node_modules and the native module
 * (native/build/Release/tsbuild_sys.node, which src/util/native-sys.ts looks for up from the
 * bundle: without it the copy measured the fallbacks — mount(8) and umount(8) spawned per RUN, COPY
 * without its native batches).
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TsbuildError } from '../../src/util/errors.js';
import { repoRoot } from './paths.js';
import { runCommand } from './run-command.js';

/**
 * Copies the CLI into `dir` and returns the path of its entry point; checks that it starts.
 * `dist`: another build's dist/ directory to take it from (a before/after comparison); default
 * this repository's.
 */
export async function snapshotCli(dir: string, opts: { readonly signal: AbortSignal; readonly dist?: string }): Promise<string> {
  const bin = join(opts.dist ?? join(repoRoot, 'dist'), 'bin');
  if (!existsSync(join(bin, 'tsbuild.mjs'))) throw new TsbuildError('BENCH_NOT_BUILT', `${join(bin, 'tsbuild.mjs')} is missing: run npm run build first`);
  await mkdir(join(dir, 'dist'), { recursive: true });
  await cp(bin, join(dir, 'dist', 'bin'), { recursive: true });
  await cp(join(repoRoot, 'package.json'), join(dir, 'package.json'));
  await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  // The other build's own module when it has one beside its dist/, else this repository's.
  const native = join('native', 'build', 'Release', 'tsbuild_sys.node');
  const nativeFrom = [join(dirname(dirname(bin)), native), join(repoRoot, native)].find((p) => existsSync(p));
  if (nativeFrom !== undefined) await cp(nativeFrom, join(dir, native));
  const entry = join(dir, 'dist', 'bin', 'tsbuild.cjs');
  // --version loads the whole bundle: a copy taken mid-rebuild fails here, not later.
  const r = await runCommand(process.execPath, [entry, '--version'], { signal: opts.signal, env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.code !== 0) throw new TsbuildError('BENCH_CLI_BROKEN', `the built CLI does not start (is someone rebuilding dist/? retry in a minute):\n${r.stderr.trim().split('\n').slice(0, 6).join('\n')}`);
  return entry;
}
