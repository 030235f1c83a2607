/**
 * `tsbuildd`'s life: parse flags, start the daemon, and map signals onto its two-step stop. The
 * first SIGTERM or SIGINT stops accepting and lets running builds finish (bounded by
 * --shutdown-timeout); a second cancels them at once; a third exits without cleanup. SIGHUP
 * re-reads the token file. Exit codes: 0 after a stop, 1 when the daemon cannot start, 2 for usage
 * errors.
 */
import { formatFlags, GLOBAL_FLAGS, flagBool, parseArgs } from '../cli/args.js';
import { defaultRoot, formatError } from '../cli/main.js';
import { UsageError } from '../../src/util/errors.js';
import { Daemon } from '../../src/control/daemon.js';
import { VERSION } from '../../src/version.js';
import { DAEMON_FLAGS, daemonOptions } from './options.js';

export interface DaemonIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
}

const USAGE = 'Usage: tsbuildd [OPTIONS]\n\ntsbuildd serves tsbuild\'s gRPC API (proto/control.proto) to CI runners and any other gRPC client.\n';
const DETAILS = '\nSignals: SIGTERM/SIGINT stop accepting and let running builds finish (up to --shutdown-timeout), a\n'
  + 'second one cancels them now; SIGHUP re-reads --token-file. See docs/grpc.md.\n';

/** Runs the daemon until it is stopped by a signal; resolves with the exit code. */
export async function runDaemon(argv: readonly string[], io: DaemonIO): Promise<number> {
  const debug = argv.includes('--debug');
  const log = (line: string): void => void io.stderr.write(`tsbuildd: ${line}\n`);
  let daemon: Daemon;
  // Signals that arrive while the daemon starts are held and handled once it runs: without a
  // listener, a SIGTERM right after "listening on" (opening the engine made start-up longer)
  // would kill the process before it could stop cleanly.
  const early: NodeJS.Signals[] = [];
  const onEarly = (sig: NodeJS.Signals): void => void early.push(sig);
  process.on('SIGTERM', onEarly);
  process.on('SIGINT', onEarly);
  const dropEarly = (): void => {
    process.off('SIGTERM', onEarly);
    process.off('SIGINT', onEarly);
  };
  try {
    const args = parseArgs(argv, DAEMON_FLAGS, 'tsbuildd');
    if (flagBool(args, 'help')) {
      io.stdout.write(`${USAGE}\nOptions:\n${formatFlags([...DAEMON_FLAGS, ...GLOBAL_FLAGS])}\n${DETAILS}`);
      dropEarly();
      return 0;
    }
    if (flagBool(args, 'version')) {
      io.stdout.write(`tsbuildd ${VERSION}\n`);
      dropEarly();
      return 0;
    }
    const opts = await daemonOptions(args, defaultRoot(io.env));
    daemon = await Daemon.start(opts, { log });
  } catch (e) {
    dropEarly();
    if (e instanceof UsageError) {
      io.stderr.write(`${e.message.startsWith('tsbuildd: ') ? '' : 'tsbuildd: '}${e.message}\n`);
      return 2;
    }
    io.stderr.write(`tsbuildd: ${formatError(e, debug)}`);
    return 1;
  }

  let signals = 0;
  const stopped = new Promise<void>((resolve) => {
    const onStop = (sig: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        log(`${sig}: stopping`);
        daemon.shutdown().then(resolve, (e: unknown) => {
          log(`error while stopping: ${formatError(e, debug).trim()}`);
          resolve();
        });
      } else if (signals === 2) {
        log(`second ${sig}: cancelling running builds`);
        daemon.cancelNow();
      } else {
        log(`${sig} again: exiting without cleanup`);
        process.exit(1);
      }
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    // Only now, with the real handlers in place: then the signals held during start-up.
    dropEarly();
    for (const sig of early) onStop(sig);
  });
  const onHup = (): void => {
    daemon.reloadTokens().catch((e: unknown) => log(`SIGHUP: kept the old tokens: ${e instanceof Error ? e.message : String(e)}`));
  };
  process.on('SIGHUP', onHup);
  await stopped;
  process.off('SIGHUP', onHup);
  return 0;
}
