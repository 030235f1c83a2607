/**
 * The `tsbuild` binary (bundled by scripts/bundle.mjs into dist/bin/tsbuild.cjs, the package's
 * `bin`): answers `--version` itself, and otherwise runs the command line from its CommonJS bundle
 * (dist/bin/tsbuild-cli.cjs, from cmd/tsbuild.ts) through a V8 code cache (code-cache.ts), so a
 * command stops paying the compile of its code on every run (issue 10's start-up). The engine
 * (SQLite, parser, solver, worker) is a bundle of its own, dist/bin/tsbuild-engine.cjs, which the
 * CLI bundle loads through the same cache only when it runs the engine in this process: talking
 * to a daemon never reads it.
 *
 * With `--debug` the bundles are loaded by `require` instead, with source maps on, so stack traces
 * name src/ files and lines (Node applies source maps only to modules its own loaders compile).
 */
import { existsSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSocketPath } from '../../src/client/default-socket.js';
import { restoreDeferredExtraCa } from '../../src/util/extra-ca.js';
import { VERSION } from '../../src/version.js';
import { CLIENT_FLAGS, GLOBAL_FLAGS } from '../cli/args.js';
import { BUNDLE_LOADER, RAN_VIA_DAEMON } from './bundle-loader-key.js';
import { BundleLoader, codeCacheDir } from './code-cache.js';
import type { RunVia } from './code-cache.js';

/** The content hash of each bundle, by file name (scripts/bundle.mjs defines it). */
declare const TSBUILD_BUNDLE_HASHES: Readonly<Record<string, string>>;

const VALUE_FLAGS = new Set([...GLOBAL_FLAGS, ...CLIENT_FLAGS].filter((f) => f.kind !== 'bool').map((f) => `--${f.name}`));

/** The command's first word (`build`, `images`…), which names its code cache; `none` without one. */
function commandWord(argv: readonly string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith('-')) {
      if (VALUE_FLAGS.has(a)) i++;
      continue;
    }
    return /^[a-z][a-z-]{0,23}$/.test(a) ? a : 'other';
  }
  return 'none';
}

/**
 * The code cache's key for each way the command can run (code-cache.ts): `build` in this process,
 * `build.daemon` through a daemon, `build.help` for its help text (which compiles little of either).
 */
function cacheKey(argv: readonly string[]): (via: RunVia) => string {
  const word = commandWord(argv);
  const end = argv.indexOf('--');
  const flags = end < 0 ? argv : argv.slice(0, end);
  if (flags.includes('--help') || flags.includes('-h')) return () => `${word}.help`;
  return (via) => (via === 'daemon' ? `${word}.daemon` : word);
}

/**
 * Whether the command will likely run through a daemon, as cmd/cli/main.ts decides it, without the
 * connect(): an address given (--addr, TSBUILD_ADDR), or, with no data root named, a socket file
 * at the default path. Only the code cache file read first depends on it; a wrong guess costs the
 * other kind's file (or none) for this run.
 */
function guessRunVia(argv: readonly string[], env: NodeJS.ProcessEnv): RunVia {
  if (env['TSBUILD_ADDR'] || argv.some((a) => a === '--addr' || a.startsWith('--addr='))) return 'daemon';
  if (env['TSBUILD_ROOT'] || argv.some((a) => a === '--root' || a.startsWith('--root='))) return 'local';
  return existsSync(defaultSocketPath(env)) ? 'daemon' : 'local';
}

// First: NODE_EXTRA_CA_CERTS back where child processes expect it (the file's /bin/sh line moved
// it aside so node would not load it at start-up; src/util/extra-ca.ts).
restoreDeferredExtraCa();

const argv = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, 'tsbuild-cli.cjs');

/**
 * The version line straight to fd 1: process.stdout would first build a stream for it (Node's
 * stream modules, and net or tty for a pipe or terminal), more than the rest of `--version` costs
 * (issue 10). A non-blocking descriptor that is full (EAGAIN) gets the stream after all; a closed
 * pipe (EPIPE: `tsbuild --version | true`) is not an error.
 */
function printVersion(): void {
  const line = `tsbuild ${VERSION}\n`;
  try {
    writeSync(1, line);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return;
    if (code !== 'EAGAIN') throw e;
    process.stdout.write(line);
  }
}

if (argv[0] === '--version' || argv[0] === 'version') {
  printVersion();
} else if (argv.includes('--debug')) {
  process.setSourceMapsEnabled(true);
  createRequire(import.meta.url)(cli);
} else {
  const loader = new BundleLoader({ dir: codeCacheDir(process.env), key: cacheKey(argv), guess: guessRunVia(argv, process.env), hashes: TSBUILD_BUNDLE_HASHES });
  (globalThis as Record<symbol, unknown>)[BUNDLE_LOADER] = (file: string): unknown => loader.load(file);
  (globalThis as Record<symbol, unknown>)[RAN_VIA_DAEMON] = (daemon: boolean): void => loader.ranVia(daemon ? 'daemon' : 'local');
  loader.load(cli);
}
