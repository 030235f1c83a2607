/**
 * tsbuild through its daemon (issue 10's acceptance figures), in one run:
 *   startup  `node -e 0`, `tsbuild --version` and a no-op `tsbuild build` through the daemon,
 *            interleaved, medians, the excess over `node -e 0` (budget 40 ms);
 *   compare  no-op rebuilds through the daemon with 1,000- and 100,000-file contexts and rebuilds
 *            after a one-file edit with 1,000 files, side by side with Docker BuildKit (private
 *            dockerd), interleaved, medians, ratios against the targets (≤ 0.8x, ≤ 0.2x, ≤ 0.8x);
 *   load     20 clients building 5 Dockerfiles that share a base and a first step, all at once,
 *            3 rounds (see load.ts for what is checked and printed).
 *
 *   npm run build && node dist/bench/daemon/run.js [--only startup,compare,load] [--runs 5]
 *        [--startup-runs 20] [--files 1000,100000] [--change-files 1000] [--tools tsbuild,docker]
 *        [--clients 20] [--dockerfiles 5] [--rounds 3] [--shared-sleep 2] [--dir /tmp] [--keep]
 *
 * Needs root (overlay mounts, runc, dockerd). Exits 1 when a load-test check fails (a failed
 * build, a shared step run twice, a leaked mount); missed timing targets are printed, not fatal.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsbuildError, UsageError } from '../../src/util/errors.js';
import { choiceList, intList, parseFlags, positiveInt, toolList } from '../lib/args.js';
import { makeBaseTar } from '../lib/base-image.js';
import { benchMain } from '../lib/bench-main.js';
import { snapshotCli } from '../lib/cli-snapshot.js';
import { DockerBuilder } from '../lib/docker-builder.js';
import { haveDocker } from '../lib/dockerd.js';
import { loadLine, machineLine, note, say } from '../lib/report.js';
import type { Builder } from '../lib/types.js';
import { withWorkDir } from '../lib/work-dir.js';
import { compareSize } from './compare.js';
import { DaemonBuilder } from './daemon-builder.js';
import { assertLoadOptions, loadReport, runLoad } from './load.js';
import { measureStartup, startupTable } from './startup.js';

const USAGE = 'usage: node dist/bench/daemon/run.js [--only startup,compare,load] [--runs N] [--startup-runs N] [--files N,N] [--change-files N,N] [--tools tsbuild,docker] [--clients N] [--dockerfiles N] [--rounds N] [--shared-sleep S] [--dir DIR] [--keep]';
const PARTS = ['startup', 'compare', 'load'] as const;

async function main(signal: AbortSignal): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), USAGE, {
    only: { type: 'string', help: 'parts to run (default startup,compare,load)' },
    runs: { type: 'string', help: 'rebuilds per tool and kind in compare; the median is reported (default 5)' },
    'startup-runs': { type: 'string', help: 'runs of each start-up command (default 20)' },
    files: { type: 'string', help: 'context sizes for the no-op comparison (default 1000,100000)' },
    'change-files': { type: 'string', help: 'context sizes that also get one-file-edit rebuilds (default 1000)' },
    tools: { type: 'string', help: 'tsbuild, or tsbuild,docker (default)' },
    clients: { type: 'string', help: 'load test: clients per round (default 20)' },
    dockerfiles: { type: 'string', help: 'load test: different Dockerfiles (default 5)' },
    rounds: { type: 'string', help: 'load test: rounds (default 3)' },
    'shared-sleep': { type: 'string', help: 'load test: seconds the shared first step takes (default 2)' },
    dir: { type: 'string', help: `parent of the temp work dir (default ${tmpdir()})` },
    keep: { type: 'boolean', help: 'keep the work dir (for debugging; default: removed)' },
  });
  const parts = choiceList(flags, 'only', PARTS);
  const runs = positiveInt(flags, 'runs', 5);
  const startupRuns = positiveInt(flags, 'startup-runs', 20);
  const sizes = intList(flags, 'files', [1000, 100_000]);
  const changeSizes = intList(flags, 'change-files', [1000]);
  const tools = toolList(flags).filter((t) => t !== 'buildah');
  const load = {
    clients: positiveInt(flags, 'clients', 20),
    dockerfiles: positiveInt(flags, 'dockerfiles', 5),
    rounds: positiveInt(flags, 'rounds', 3),
    sharedSleep: positiveInt(flags, 'shared-sleep', 2),
  };
  assertLoadOptions(load);
  if (process.getuid?.() !== 0) throw new UsageError('run as root: overlay mounts, runc and dockerd need it');

  say(`tsbuild bench/daemon: ${parts.join(', ')}`);
  say(`machine: ${machineLine()}`);
  let problems: string[] = [];
  // Short parent: the daemon's unix socket lives in the work dir.
  await withWorkDir({ parent: typeof flags['dir'] === 'string' ? flags['dir'] : tmpdir(), prefix: 'tsb-daemon-', keep: flags['keep'] === true }, async (work) => {
    const cli = await snapshotCli(join(work, 'cli'), { signal });
    const baseTar = await makeBaseTar(work, { signal });
    const builders: Builder[] = [];
    try {
      const ours = await DaemonBuilder.open({ dir: join(work, 'tsb'), baseTar, cli, signal });
      builders.push(ours);
      if (tools.includes('docker') && parts.includes('compare')) {
        if (haveDocker()) builders.push(await DockerBuilder.open({ dir: work, baseTar, signal }));
        else say('docker: not installed, skipped');
      }
      for (const b of builders) say(`  ${b.name}: ${b.version}`);

      if (parts.includes('startup')) {
        say('');
        say(`== client start-up (${loadLine()})`);
        say(startupTable(await measureStartup(ours, work, startupRuns, signal), startupRuns));
      }
      if (parts.includes('compare')) {
        for (const files of sizes) {
          say('');
          const text = await compareSize(builders, work, { files, runs, change: changeSizes.includes(files) }, signal, note);
          say(`(${loadLine()})`);
          say(text);
        }
      }
      if (parts.includes('load')) {
        say('');
        say(`== load: ${load.clients} clients at once, ${load.dockerfiles} Dockerfiles sharing a base and a first step, ${load.rounds} rounds (${loadLine()})`);
        await ours.reset({ signal });
        const rounds = await runLoad(ours, work, load, signal, note);
        const r = loadReport(rounds, load);
        say(r.text);
        problems = r.problems;
        say(problems.length === 0 ? 'load test: all checks passed' : `load test FAILED:\n  ${problems.join('\n  ')}`);
      }
      say('');
      say(`done (${loadLine()})`);
    } finally {
      for (const b of builders.reverse()) await b.close();
    }
  });
  if (problems.length > 0) throw new TsbuildError('BENCH_LOAD_FAILED', `${problems.length} load-test check(s) failed`);
}

await benchMain('bench/daemon', main);
