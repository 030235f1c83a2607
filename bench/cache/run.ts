/**
 * No-op rebuild: a Dockerfile that COPYs its whole context (1,000 and 100,000 files by default),
 * then RUNs over it, built once and then rebuilt unchanged N times; tsbuild through its real CLI
 * side by side with Docker BuildKit (private dockerd, `DOCKER_BUILDKIT=1 /usr/bin/docker build
 * --network=host`) and Buildah (`bud --layers`) when installed, medians and ratios. Then one
 * rebuild after a one-file edit, which must run the COPY again: proof that the no-op hashed the
 * context rather than skipping it. Before the builds, the same context's hashing throughput
 * (hash-context.ts: no stat cache, filling it, warm).
 *
 *   npm run build && node dist/bench/cache/run.js [--runs 3] [--files 1000,100000]
 *        [--tools tsbuild,docker,buildah] [--isolation oci|chroot] [--dir /tmp] [--keep]
 *
 * Needs root (overlay mounts, runc, dockerd). Every temp dir, mount and daemon is removed at the
 * end, also after a failure or Ctrl-C.
 */
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../../src/util/errors.js';
import { intList, oneOf, parseFlags, positiveInt, toolList } from '../lib/args.js';
import { makeBaseTar } from '../lib/base-image.js';
import { benchMain } from '../lib/bench-main.js';
import { closeBuilders, openBuilders } from '../lib/builders.js';
import { snapshotCli } from '../lib/cli-snapshot.js';
import { makeTree } from '../lib/context-tree.js';
import { BASE_IMAGE } from '../lib/paths.js';
import { bytes, loadLine, machineLine, median, ratio, say, seconds, table } from '../lib/report.js';
import type { BuildOutcome, Builder } from '../lib/types.js';
import { withWorkDir } from '../lib/work-dir.js';
import { fmt as fmtHashing, measureHashing } from './hash-context.js';

const USAGE = 'usage: node dist/bench/cache/run.js [--runs N] [--files N,N] [--tools tsbuild,docker,buildah] [--isolation oci|chroot] [--dir DIR] [--keep]';

interface ToolResult {
  readonly tool: string;
  readonly first: BuildOutcome;
  readonly noop: readonly BuildOutcome[];
  /** One rebuild after appending to one file deep in the tree: proves the no-op really hashed. */
  readonly change: BuildOutcome;
}

function dockerfile(): string {
  return `FROM ${BASE_IMAGE}\nCOPY . /ctx\nRUN find /ctx -type f | wc -l > /ctx-files\n`;
}

/** Appends a line to one file in the middle of the tree (a different line each time). */
async function editOneFile(ctx: string, files: number, tool: string): Promise<void> {
  const i = Math.floor(files / 2);
  await appendFile(join(ctx, `pkg${Math.floor(i / 10_000)}`, `mod${Math.floor(i / 100) % 100}`, `file${i}.ts`), `// edited for ${tool}\n`);
}

async function measureTool(b: Builder, ctx: string, files: number, runs: number, signal: AbortSignal): Promise<ToolResult> {
  await b.reset({ signal });
  const tag = 'bench-noop';
  const first = await b.build({ contextDir: ctx, tag }, { signal });
  const noop: BuildOutcome[] = [];
  for (let i = 0; i < runs; i++) {
    const o = await b.build({ contextDir: ctx, tag }, { signal });
    noop.push(o);
    process.stderr.write(`  ${b.name}: no-op rebuild ${i + 1}/${runs} ${seconds(o.wallMs)}\n`);
  }
  await editOneFile(ctx, files, b.name);
  const change = await b.build({ contextDir: ctx, tag }, { signal });
  process.stderr.write(`  ${b.name}: rebuild after a one-file edit ${seconds(change.wallMs)}\n`);
  return { tool: b.name, first, noop, change };
}

function printSize(files: number, results: readonly ToolResult[]): void {
  const ours = results.find((r) => r.tool === 'tsbuild');
  const oursMedian = ours && median(ours.noop.map((o) => o.wallMs));
  const rows = results.map((r) => {
    const walls = r.noop.map((o) => o.wallMs);
    const m = median(walls);
    const ran = Math.max(...r.noop.map((o) => o.steps - o.cachedSteps));
    return [
      r.tool,
      seconds(r.first.wallMs),
      seconds(m),
      `${seconds(Math.min(...walls))} – ${seconds(Math.max(...walls))}`,
      ran === 0 ? `0/${r.noop[0]?.steps ?? 0}` : `${ran}/${r.noop[0]?.steps ?? 0} (NOT a no-op)`,
      r.tool === 'tsbuild' ? '1.00x' : ratio(oursMedian, m),
      seconds(r.change.wallMs),
      r.change.steps - r.change.cachedSteps > 0 ? `${r.change.steps - r.change.cachedSteps}/${r.change.steps}` : `0/${r.change.steps} (edit NOT seen)`,
    ];
  });
  say('');
  say(table(['tool', 'first build', 'no-op median', 'no-op range', 'steps run', 'tsbuild / tool', '1-file edit', 'steps run'], rows));
}

async function main(signal: AbortSignal): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), USAGE, {
    runs: { type: 'string', help: 'no-op rebuilds per tool; the median is reported (default 3)' },
    files: { type: 'string', help: 'context sizes in files, comma-separated (default 1000,100000)' },
    tools: { type: 'string', help: 'tools to compare (default tsbuild,docker,buildah)' },
    isolation: { type: 'string', help: 'buildah RUN isolation: oci (runc, default) or chroot' },
    dir: { type: 'string', help: `parent of the temp work dir (default ${tmpdir()})` },
    keep: { type: 'boolean', help: 'keep the work dir (for debugging; default: removed)' },
  });
  const runs = positiveInt(flags, 'runs', 3);
  const sizes = intList(flags, 'files', [1000, 100_000]);
  const tools = toolList(flags);
  const isolation = oneOf(flags, 'isolation', ['oci', 'chroot'] as const, 'oci');
  if (process.getuid?.() !== 0) throw new UsageError('run as root: overlay mounts, runc and dockerd need it');

  say(`tsbuild bench/cache: no-op rebuild of COPY-the-whole-context, ${runs} runs per tool (medians)`);
  say(`machine: ${machineLine()}`);
  await withWorkDir({ parent: typeof flags['dir'] === 'string' ? flags['dir'] : tmpdir(), prefix: 'tsbuild-bench-cache-', keep: flags['keep'] === true }, async (work) => {
    const tsbuildCli = await snapshotCli(join(work, 'cli'), { signal });
    const baseTar = await makeBaseTar(work, { signal });
    const builders = await openBuilders({ tools, workDir: work, baseTar, tsbuildCli, buildahIsolation: isolation, signal, log: say });
    try {
      for (const b of builders) say(`  ${b.name}: ${b.version}`);
      for (const files of sizes) {
        const ctx = join(work, `ctx-${files}`);
        await mkdir(ctx, { recursive: true });
        const size = await makeTree(ctx, files, { signal });
        await writeFile(join(ctx, 'Dockerfile'), dockerfile());
        // Let the files age past the stat cache's racy window so that warm runs can trust them.
        await sleep(2100, undefined, { signal });
        say('');
        say(`== context of ${files.toLocaleString('en-US')} files + Dockerfile, ${bytes(size)} (${loadLine()})`);
        const hashDb = join(work, `hash-db-${files}`);
        const h = await measureHashing(ctx, hashDb);
        await rm(hashDb, { recursive: true, force: true });
        say(`tsbuild context hashing (in-process, page cache warm):`);
        say(`  cold, no stat cache      ${fmtHashing(files, size, h.noCacheMs)}`);
        say(`  cold, filling the cache  ${fmtHashing(files, size, h.coldMs)}`);
        say(`  warm stat cache          ${fmtHashing(files, size, h.warmMs)}`);
        const results: ToolResult[] = [];
        for (const b of builders) results.push(await measureTool(b, ctx, files, runs, signal));
        printSize(files, results);
        for (const b of builders) await b.reset({ signal });
        await rm(ctx, { recursive: true, force: true });
      }
      say('');
      say(`done (${loadLine()})`);
    } finally {
      await closeBuilders(builders);
    }
  });
}

await benchMain('bench/cache', main);
