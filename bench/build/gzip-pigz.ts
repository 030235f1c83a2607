/**
 * Issue 14's gzip acceptance: tsbuild's layer gzip against `pigz` at the same level on the same
 * data on this machine — 1 GiB (`--mb`) of random bytes and of /bin/busybox copies — as MB/s of
 * input, with each process's peak RSS (GNU time's %M). Three rows per kind:
 *   pigz            `pigz -L -c FILE > OUT` (pigz's default threads: one per core)
 *   tsbuild gzip    the compressor alone (bench/build/gzip-child.ts: file → BlockGzip → file)
 *   tsbuild export  `tsbuild build -o type=oci,dest=…,compression-level=L` of `COPY big.bin`, timed
 *                   by its "exporting to" vertex (diff + gzip + blob commit + the OCI tar), RSS of
 *                   the whole CLI process (the COPY step included)
 * Target: tsbuild ≥ 80% of pigz's MB/s, peak RSS ≤ 150 MB.
 *
 *   npm run build && node dist/bench/build/gzip-pigz.js [--mb 1024] [--level 6] [--runs 1] [--kinds random,binary] [--dir /var/tmp] [--no-export]
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../src/util/errors.js';
import { parseFlags, positiveInt } from '../lib/args.js';
import { benchMain } from '../lib/bench-main.js';
import { cliPath } from '../lib/paths.js';
import { parseTsbuildRawJson } from '../lib/progress-parse.js';
import { runOk } from '../lib/run-command.js';
import { unmountAndRemove } from '../lib/teardown.js';

type Kind = 'random' | 'binary';

interface Row {
  readonly kind: Kind;
  readonly tool: string;
  readonly ms: number;
  readonly rssKb: number;
}

const child = join(fileURLToPath(new URL('.', import.meta.url)), 'gzip-child.js');

/** Writes `bytes` of the kind to `file`, in 1 MiB writes. */
async function makeData(kind: Kind, file: string, bytes: number): Promise<void> {
  const busybox = kind === 'binary' ? await readFile('/bin/busybox') : undefined;
  const out = createWriteStream(file);
  let written = 0;
  let offset = 0;
  while (written < bytes) {
    let chunk: Buffer;
    if (busybox) {
      chunk = Buffer.allocUnsafe(Math.min(1 << 20, bytes - written));
      for (let o = 0; o < chunk.length;) {
        const n = busybox.copy(chunk, o, offset);
        o += n;
        offset = (offset + n) % busybox.length;
      }
    } else {
      chunk = randomBytes(Math.min(1 << 20, bytes - written));
    }
    written += chunk.length;
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

/** Runs `cmd` under GNU time; returns its stdout, stderr and peak RSS (KiB, time's last line). */
async function timed(cmd: string, args: readonly string[], signal: AbortSignal): Promise<{ stdout: string; stderr: string; wallMs: number; rssKb: number }> {
  const r = await runOk('/usr/bin/time', ['-f', 'rss=%M', cmd, ...args], { signal });
  const m = /rss=(\d+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`no RSS from /usr/bin/time:\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr, wallMs: r.wallMs, rssKb: Number(m[1]) };
}

await benchMain('gzip-pigz', async (signal) => {
  const flags = parseFlags(process.argv.slice(2), 'usage: node dist/bench/build/gzip-pigz.js [flags]', {
    mb: { type: 'string', help: 'data size in MiB (default 1024)' },
    level: { type: 'string', help: 'gzip level for both (default 6)' },
    runs: { type: 'string', help: 'runs per row; the median is shown (default 1)' },
    kinds: { type: 'string', help: 'random,binary (default both)' },
    dir: { type: 'string', help: 'parent of the work directory (default /var/tmp)' },
    'no-export': { type: 'boolean', help: 'skip the tsbuild export row' },
  });
  const mb = positiveInt(flags, 'mb', 1024);
  const runs = positiveInt(flags, 'runs', 1);
  const level = Number(flags['level'] ?? 6);
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new UsageError('--level needs 1-9');
  const kinds = String(flags['kinds'] ?? 'random,binary').split(',') as Kind[];
  for (const k of kinds) if (k !== 'random' && k !== 'binary') throw new UsageError(`unknown kind ${k}`);
  const work = await mkdtemp(join(String(flags['dir'] ?? '/var/tmp'), 'tsbuild-gzip-bench-'));
  const rows: Row[] = [];
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  try {
    for (const kind of kinds) {
      const ctx = join(work, `ctx-${kind}`);
      await mkdir(ctx);
      const data = join(work, `${kind}.bin`);
      await makeData(kind, data, mb * 1024 * 1024);
      await link(data, join(ctx, 'big.bin'));
      await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY big.bin /big.bin\n');
      const out = join(work, 'out.gz');
      const measure = async (tool: string, once: () => Promise<{ ms: number; rssKb: number }>): Promise<void> => {
        const ms: number[] = [];
        const rss: number[] = [];
        for (let i = 0; i < runs; i++) {
          const r = await once();
          ms.push(r.ms);
          rss.push(r.rssKb);
          process.stderr.write(`  ${kind} ${tool}: ${(r.ms / 1000).toFixed(2)} s, ${(r.rssKb / 1024).toFixed(0)} MB\n`);
          await rm(out, { force: true });
        }
        rows.push({ kind, tool, ms: median(ms), rssKb: Math.max(...rss) });
      };
      await measure('pigz', async () => {
        const r = await timed('sh', ['-c', `pigz -${level} -c "$1" > "$2"`, 'sh', data, out], signal);
        return { ms: r.wallMs, rssKb: r.rssKb };
      });
      await measure('tsbuild gzip', async () => {
        const r = await timed(process.execPath, [child, data, out, String(level)], signal);
        return { ms: Number(/ms=(\d+)/.exec(r.stdout)?.[1] ?? r.wallMs), rssKb: r.rssKb };
      });
      if (flags['no-export'] !== true) {
        await measure('tsbuild export', async () => {
          const root = join(work, 'root');
          try {
            const r = await timed(process.execPath, [cliPath, '--root', root, 'build', '--progress=rawjson', '-o', `type=oci,dest=${join(work, 'out.oci.tar')},compression-level=${level}`, ctx], signal);
            const p = parseTsbuildRawJson(r.stderr);
            if (p.exportMs === undefined) throw new Error('no "exporting to" vertex in the progress');
            return { ms: p.exportMs, rssKb: r.rssKb };
          } finally {
            await rm(join(work, 'out.oci.tar'), { force: true });
            await unmountAndRemove(root);
          }
        });
      }
      await rm(ctx, { recursive: true, force: true });
      await rm(data, { force: true });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  process.stdout.write(`gzip level ${level}, ${mb} MiB per kind, median of ${runs}\n`);
  process.stdout.write(`${'data'.padEnd(8)}${'tool'.padEnd(16)}${'s'.padStart(8)}${'MB/s'.padStart(9)}${'of pigz'.padStart(9)}${'peak RSS'.padStart(10)}\n`);
  for (const r of rows) {
    const pigz = rows.find((x) => x.kind === r.kind && x.tool === 'pigz') as Row;
    const mbs = (mb * 1.048576) / (r.ms / 1000);
    process.stdout.write(`${r.kind.padEnd(8)}${r.tool.padEnd(16)}${(r.ms / 1000).toFixed(2).padStart(8)}${mbs.toFixed(0).padStart(9)}${`${((pigz.ms / r.ms) * 100).toFixed(0)}%`.padStart(9)}${`${(r.rssKb / 1024).toFixed(0)} MB`.padStart(10)}\n`);
  }
});
