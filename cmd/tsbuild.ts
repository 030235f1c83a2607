/**
 * `tsbuild`: the command-line front door. Argument parsing and wiring only. `--version` is
 * answered before anything else loads (the commands and their Node built-ins cost more start-up
 * than the version line is worth, issue 10); runCli answers it the same way for other callers.
 * No top-level await: scripts/bundle.mjs bundles this entry as CommonJS (dist/bin/tsbuild-cli.cjs),
 * which the launcher (cmd/launcher/tsbuild-launcher.ts) runs through a V8 code cache.
 */
import { VERSION } from '../src/version.js';
import { RAN_VIA_DAEMON } from './launcher/bundle-loader-key.js';

const PROG = 'tsbuild';

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--version' || argv[0] === 'version') {
    process.stdout.write(`${PROG} ${VERSION}\n`);
    return;
  }
  let viaDaemon = false;
  const [{ runCli }, { commands }] = await Promise.all([import('./cli/main.js'), import('./commands/index.js')]);
  const code = await runCli(argv, {
    prog: PROG,
    summary: 'tsbuild builds container images from Dockerfiles, with a content-addressed layer cache.',
    version: VERSION,
    commands,
    onDaemon: () => {
      viaDaemon = true;
    },
    // stdin on first use: process.stdin builds a stream for fd 0 (loading Node's fs streams or tty),
    // ~5 ms of start-up that only the commands reading standard input need (issue 10).
    io: { stdout: process.stdout, stderr: process.stderr, get stdin() { return process.stdin; }, env: process.env, cwd: process.cwd() },
  });
  process.exitCode = code;
  // The launcher's code cache is kept per kind of run (cmd/launcher/code-cache.ts).
  const ranVia = (globalThis as Record<symbol, unknown>)[RAN_VIA_DAEMON];
  if (typeof ranVia === 'function') (ranVia as (daemon: boolean) => void)(viaDaemon);
  if (viaDaemon) exitWhenIdle(code);
}

/**
 * What may still be in the event loop when a command that talked to a daemon over a unix socket
 * has returned: the socket (a pipe handle) and its shutdown, a terminal or pipe for the standard
 * streams, and the immediates of streams that ended.
 */
const CONNECTION_CLOSING = new Set(['PipeWrap', 'SimpleShutdownWrap', 'ShutdownWrap', 'TTYWrap', 'Immediate']);

/**
 * Exits without Node's teardown of the environment (freeing handles, the heap, the platform's
 * threads: ~10-25 ms of a no-op build, issue 10). Only after a command that talked to a daemon: by
 * then its calls have ended on both sides (the daemon saw each stream close normally) and the
 * session has sent its GOAWAY; with the embedded engine, native add-ons (SQLite) close in that
 * teardown, so those commands end the natural way. At once when nothing but the daemon connection
 * closing is left (the rest of the loop would run V8's idle-time scavenge, which Node runs before
 * the loop ends: ~2 ms of a no-op build); otherwise, with a file write, a timer or a TLS session
 * still going, as soon as the event loop has nothing left to do.
 */
function exitWhenIdle(code: number): void {
  if (process.getActiveResourcesInfo().every((r) => CONNECTION_CLOSING.has(r))) process.exit(code);
  process.once('beforeExit', () => process.exit(code));
}

void main(process.argv.slice(2));
