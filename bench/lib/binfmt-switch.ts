/**
 * binfmt_misc while Docker is timed. Docker 20.10's BuildKit probes every registered emulator on
 * each build (with qemu-user-static's ~30 handlers a no-op rebuild goes from 0.17 s to 1.4 s), which
 * would make Docker look slower for a reason that has nothing to do with the comparison. Switching
 * the handlers off is machine-wide, so it would break arm64 tests running at the same time: it is
 * opt-in (TSBUILD_BENCH_BINFMT_OFF=1); by default the benchmark only says how many handlers were
 * registered while Docker was timed. Either way one line says which it was.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { runOk } from './run-command.js';

const DIR = '/proc/sys/fs/binfmt_misc';
export const BINFMT_OFF_ENV = 'TSBUILD_BENCH_BINFMT_OFF';

/** Enabled binfmt_misc handlers (0 when binfmt_misc is not mounted). */
export function enabledHandlers(): number {
  let names: string[];
  try {
    names = readdirSync(DIR).filter((n) => n !== 'register' && n !== 'status');
  } catch {
    return 0;
  }
  return names.filter((n) => {
    try {
      return readFileSync(join(DIR, n), 'utf8').startsWith('enabled');
    } catch {
      return false;
    }
  }).length;
}

export interface BinfmtForDocker {
  /** What the report says about binfmt_misc during Docker's timings. */
  readonly note: string;
  /** Registers the handlers again when they were switched off here; otherwise nothing. */
  restore(): Promise<void>;
}

/** Switches the qemu handlers off when TSBUILD_BENCH_BINFMT_OFF=1, else only describes them. */
export async function binfmtForDocker(signal: AbortSignal, env: NodeJS.ProcessEnv = process.env): Promise<BinfmtForDocker> {
  const before = enabledHandlers();
  const script = join(repoRoot, 'scripts', 'setup-binfmt.sh');
  if (env[BINFMT_OFF_ENV] !== '1' || before === 0) {
    return {
      note: before === 0
        ? 'binfmt_misc: no emulators registered while Docker was timed'
        : `binfmt_misc: ${before} emulators stayed registered while Docker was timed (Docker 20.10's BuildKit probes each on every build; ${BINFMT_OFF_ENV}=1 switches them off while timing)`,
      restore: () => Promise.resolve(),
    };
  }
  await runOk('bash', [script, '--off'], { signal });
  return {
    note: `binfmt_misc: ${before} emulators switched off while Docker was timed (${enabledHandlers()} left), registered again afterwards`,
    // Not cancellable: the machine must get its emulators back.
    restore: async () => void (await runOk('bash', [script], { signal: new AbortController().signal })),
  };
}
