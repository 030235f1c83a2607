/**
 * Build benchmark: tsbuild (its real CLI) side by side with Docker BuildKit (private dockerd,
 * `DOCKER_BUILDKIT=1 /usr/bin/docker build --network=host`) and Buildah (`bud --layers`, private
 * storage, overlay) when installed, all on the same offline busybox base image:
 *
 * - examples/split and examples/single: cold build, no-op rebuild, one-file-change rebuild
 *   (package.json edited); image sizes and the bytes a push would re-upload after the change;
 * - export of a 1 GiB layer (the "exporting to image" step of a cold build).
 *
 *   npm run build && node dist/bench/build/run.js [--runs 3] [--only split,single,export]
 *        [--export-mb 1024] [--tools tsbuild,docker,buildah] [--isolation oci|chroot] [--tsbuild embedded|daemon]
 *        [--old DIST] [--dir /tmp] [--keep]
 *
 * `--old DIST` (another build's dist/, with its native/ beside it) adds that build's tsbuild as
 * "tsbuild (old)", same mode, interleaved run by run with the others: before/after from one run.
 *
 * Medians of N runs (interleaved across tools) and ratios tsbuild / tool. Needs root. Every temp
 * dir, mount and daemon is removed at the end, also after a failure or Ctrl-C.
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../../src/util/errors.js';
import { choiceList, oneOf, parseFlags, positiveInt, toolList } from '../lib/args.js';
import { makeBaseTar } from '../lib/base-image.js';
import { benchMain } from '../lib/bench-main.js';
import { closeBuilders, openBuilders } from '../lib/builders.js';
import type { Builder } from '../lib/types.js';
import { snapshotCli } from '../lib/cli-snapshot.js';
import { loadLine, machineLine, say } from '../lib/report.js';
import { withWorkDir } from '../lib/work-dir.js';
import { EXAMPLES, benchExample } from './examples.js';
import type { ExampleResult, LabelledBuilder } from './examples.js';
import { benchExport } from './export.js';
import { printExample, printExport, printSizes } from './print.js';

const USAGE = 'usage: node dist/bench/build/run.js [--runs N] [--only split,single,export] [--export-mb MB] [--tools tsbuild,docker,buildah] [--isolation oci|chroot] [--tsbuild embedded|daemon] [--old DIST] [--dir DIR] [--keep]';

async function main(signal: AbortSignal): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), USAGE, {
    runs: { type: 'string', help: 'runs per measurement; the median is reported (default 3)' },
    only: { type: 'string', help: 'scenarios to run (default split,single,export)' },
    'export-mb': { type: 'string', help: 'size of the exported layer in MiB (default 1024)' },
    tools: { type: 'string', help: 'tools to compare (default tsbuild,docker,buildah)' },
    isolation: { type: 'string', help: 'buildah RUN isolation: oci (runc, default) or chroot' },
    tsbuild: { type: 'string', help: 'how tsbuild runs: embedded (the CLI alone, default) or daemon (through a private tsbuildd)' },
    old: { type: 'string', help: "another build's dist/ dir: adds its tsbuild as \"tsbuild (old)\" (before/after)" },
    dir: { type: 'string', help: `parent of the temp work dir (default ${tmpdir()})` },
    keep: { type: 'boolean', help: 'keep the work dir (for debugging; default: removed)' },
  });
  const runs = positiveInt(flags, 'runs', 3);
  const exportMb = positiveInt(flags, 'export-mb', 1024);
  const only = choiceList(flags, 'only', [...EXAMPLES, 'export'] as const);
  const tools = toolList(flags);
  const isolation = oneOf(flags, 'isolation', ['oci', 'chroot'] as const, 'oci');
  const tsbuildMode = oneOf(flags, 'tsbuild', ['embedded', 'daemon'] as const, 'embedded');
  if (process.getuid?.() !== 0) throw new UsageError('run as root: overlay mounts, runc and dockerd need it');

  say(`tsbuild bench/build: ${only.join(', ')}; ${runs} runs per measurement (medians)`);
  say(`machine: ${machineLine()}`);
  await withWorkDir({ parent: typeof flags['dir'] === 'string' ? flags['dir'] : tmpdir(), prefix: 'tsbuild-bench-build-', keep: flags['keep'] === true }, async (work) => {
    const tsbuildCli = await snapshotCli(join(work, 'cli'), { signal });
    const baseTar = await makeBaseTar(work, { signal });
    const builders = await openBuilders({ tools, workDir: work, baseTar, tsbuildCli, tsbuildMode, buildahIsolation: isolation, signal, log: say });
    const labelled: LabelledBuilder[] = builders.map((b) => ({ label: b.name, builder: b }));
    // The old build's tsbuild runs the examples only (the export table has one row per tool).
    const old: Builder[] = [];
    try {
      if (typeof flags['old'] === 'string' && tools.includes('tsbuild')) {
        const oldCli = await snapshotCli(join(work, 'cli-old'), { signal, dist: resolve(flags['old']) });
        old.push(...(await openBuilders({ tools: ['tsbuild'], workDir: join(work, 'old'), baseTar, tsbuildCli: oldCli, tsbuildMode, signal, log: say })));
        for (const b of old) labelled.splice(labelled.findIndex((l) => l.label === 'tsbuild') + 1, 0, { label: 'tsbuild (old)', builder: b });
      }
      for (const l of labelled) say(`  ${l.label}: ${l.builder.version}`);
      const examples: ExampleResult[] = [];
      for (const example of EXAMPLES) {
        if (!only.includes(example)) continue;
        const r = await benchExample({ example, builders: labelled, workDir: work, runs, signal });
        printExample(r, say);
        say(`(${loadLine()})`);
        examples.push(...r);
      }
      if (examples.length > 0) printSizes(examples, say);
      if (only.includes('export')) {
        for (const kind of ['random', 'binary'] as const) {
          const ex = await benchExport({ kind, builders, workDir: work, megabytes: exportMb, runs, signal });
          printExport(ex.results, ex.layerBytes, kind, say);
          say(`(${loadLine()})`);
        }
      }
    } finally {
      await closeBuilders([...builders, ...old]);
    }
  });
}

await benchMain('bench/build', main);
