/**
 * The entry point of every comparison benchmark: turns SIGINT/SIGTERM into an abort of the run
 * (children get one polite signal, then every builder and temp dir is cleaned up by the run's own
 * `finally` blocks) and errors into one clear line and an exit code. A second Ctrl-C while
 * cleaning up is ignored with a note: leaving mounts behind is worse than waiting a few seconds.
 */
import { CancelledError, UsageError, errorMessage } from '../../src/util/errors.js';

export async function benchMain(name: string, run: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (ac.signal.aborted) {
      process.stderr.write(`${name}: ${sig} again; still cleaning up, please wait\n`);
      return;
    }
    process.stderr.write(`\n${name}: ${sig}, stopping and cleaning up…\n`);
    ac.abort(new CancelledError(new Error(`received ${sig}`)));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await run(ac.signal);
  } catch (e) {
    if (ac.signal.aborted) {
      process.stderr.write(`${name}: interrupted; everything it started was cleaned up\n`);
      process.exitCode = 130;
    } else if (e instanceof UsageError) {
      process.stderr.write(`${name}: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`${name} failed: ${errorMessage(e)}\n`);
      process.exitCode = 1;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
