/**
 * Issue 14's seed-like benchmark: RUN mkdir, three one-file COPYs, `COPY f*` of N one-line files
 * and a RUN, on the busybox base, per N (default 1,000 and 100,000): cold build (fresh state,
 * `--no-cache`), no-op rebuild, and the rebuild after one f* file changed (COPY f* and the last
 * RUN run again). Tools, interleaved run by run:
 *   daemon    tsbuild through a private tsbuildd (`--addr unix://…`), as CI runners use it; after
 *             each reset (new data root, daemon restarted) one tiny unrelated build warms it up,
 *             since Docker's daemon is warm too;
 *   embedded  the tsbuild CLI without a daemon (engine in-process, fresh data root per cold run);
 *   docker    `DOCKER_BUILDKIT=1 /usr/bin/docker build --network=host`, private dockerd.
 * Medians, tsbuild / Docker ratios and the issue's targets: cold ≤ 1.0x at 1,000 and 100,000
 * files; one file changed ≤ 0.8x at 1,000 and ≤ 0.3x at 100,000.
 *
 *   npm run build && node dist/bench/build/seed.js [--files 1000,100000] [--runs 5]
 *        [--tools daemon,embedded,docker] [--old DIST] [--dir /tmp] [--keep]
 *
 * `--old DIST` (another build's dist/ directory) adds that build's daemon and embedded rows, run
 * interleaved with the others: a before/after comparison on a shared machine.
 *
 * Needs root. Every temp dir, mount, daemon and runc container is removed at the end, also after a
 * failure or Ctrl-C (exit 130).
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../../src/util/errors.js';
import { choiceList, intList, parseFlags, positiveInt } from '../lib/args.js';
import { makeBaseTar } from '../lib/base-image.js';
import { benchMain } from '../lib/bench-main.js';
import { closeBuilders } from '../lib/builders.js';
import { snapshotCli } from '../lib/cli-snapshot.js';
import { DockerBuilder } from '../lib/docker-builder.js';
import { haveDocker } from '../lib/dockerd.js';
import { loadLine, machineLine, note, say } from '../lib/report.js';
import { TsbuildBuilder } from '../lib/tsbuild-builder.js';
import type { Builder } from '../lib/types.js';
import { withWorkDir } from '../lib/work-dir.js';
import { DaemonBuilder } from '../daemon/daemon-builder.js';
import { benchSeed, seedReport } from './seed-scenario.js';
import type { SeedTool } from './seed-scenario.js';

const USAGE = 'usage: node dist/bench/build/seed.js [--files N,N] [--runs N] [--tools daemon,embedded,docker] [--old DIST] [--dir DIR] [--keep]';
const TOOLS = ['daemon', 'embedded', 'docker'] as const;

async function main(signal: AbortSignal): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), USAGE, {
    files: { type: 'string', help: 'numbers of f* files, one scenario each (default 1000,100000)' },
    runs: { type: 'string', help: 'runs per tool and kind; the median is reported (default 5)' },
    tools: { type: 'string', help: 'daemon, embedded, docker (default all three)' },
    old: { type: 'string', help: "another build's dist/ dir: adds its daemon and embedded rows (before/after)" },
    dir: { type: 'string', help: `parent of the temp work dir (default ${tmpdir()})` },
    keep: { type: 'boolean', help: 'keep the work dir (for debugging; default: removed)' },
  });
  const sizes = intList(flags, 'files', [1000, 100_000]);
  const runs = positiveInt(flags, 'runs', 5);
  const wanted = choiceList(flags, 'tools', TOOLS);
  if (!wanted.includes('daemon') && !wanted.includes('embedded')) throw new UsageError('--tools must include daemon or embedded: every figure is compared with tsbuild');
  if (process.getuid?.() !== 0) throw new UsageError('run as root: overlay mounts, runc and dockerd need it');

  say(`tsbuild bench/build/seed: files ${sizes.map((n) => n.toLocaleString('en-US')).join(', ')}; ${runs} runs per measurement (medians)`);
  say(`machine: ${machineLine()}`);
  // Short parent: the daemon's unix socket lives in the work dir.
  await withWorkDir({ parent: typeof flags['dir'] === 'string' ? flags['dir'] : tmpdir(), prefix: 'tsb-seed-', keep: flags['keep'] === true }, async (work) => {
    const cli = await snapshotCli(join(work, 'cli'), { signal });
    const old = typeof flags['old'] === 'string' ? await snapshotCli(join(work, 'cli-old'), { signal, dist: resolve(flags['old']) }) : undefined;
    const baseTar = await makeBaseTar(work, { signal });
    const builders: Builder[] = [];
    const tools: SeedTool[] = [];
    try {
      for (const t of wanted) {
        if (t === 'daemon') {
          for (const [suffix, c] of [['', cli], ...(old ? [[' (old)', old]] : [])] as const) {
            const d = await DaemonBuilder.open({ dir: join(work, `tsd${suffix === '' ? '' : 'o'}`), baseTar, cli: c, warm: true, signal });
            builders.push(d);
            tools.push({ label: `tsbuild daemon${suffix}`, builder: d });
          }
        } else if (t === 'embedded') {
          for (const [suffix, c] of [['', cli], ...(old ? [[' (old)', old]] : [])] as const) {
            const e = await TsbuildBuilder.open({ dir: join(work, `tse${suffix === '' ? '' : 'o'}`), baseTar, cli: c, signal });
            builders.push(e);
            tools.push({ label: `tsbuild embedded${suffix}`, builder: e });
          }
        } else if (haveDocker()) {
          const k = await DockerBuilder.open({ dir: work, baseTar, signal });
          builders.push(k);
          tools.push({ label: 'docker', builder: k });
        } else {
          say('docker: not installed, skipped');
        }
      }
      for (const t of tools) say(`  ${t.label}: ${t.builder.version}`);
      for (const files of sizes) {
        say('');
        say(`== seed Dockerfile, COPY f* of ${files.toLocaleString('en-US')} one-line files: wall time per build, process start included`);
        const r = await benchSeed(tools, work, { files, runs }, signal, note);
        say(`(${loadLine()})`);
        say(seedReport(r, { files, runs }));
      }
      say('');
      say(`done (${loadLine()})`);
    } finally {
      await closeBuilders(builders);
    }
  });
}

await benchMain('bench/build/seed', main);
