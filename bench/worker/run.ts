/**
 * Layer diff/apply benchmark: time, peak memory and throughput of tsbuild's differ and applier
 * against GNU tar -c / tar -x on the same trees: one of a few big files (1 GiB by default) and one
 * of many small files (100,000 by default).
 *
 *   npm run build && node dist/bench/worker/run.js [--big-mb 1024] [--big-files 4]
 *                                                   [--small-files 100000] [--per-dir 1000]
 *                                                   [--parents 0] [--only big|small]
 *                                                   [--dir /var/tmp] [--keep]
 *
 * `--parents N` puts the small-file layer on a chain of N parent snapshots that each hold the same
 * directories with the same metadata, so the differ looks up and compares every directory's lower
 * counterparts (the copied-up-directory check) instead of diffing a base snapshot.
 *
 * Every measured run is its own process under GNU time (/usr/bin/time), so the peak RSS of both
 * tools is measured the same way (tsbuild's includes Node's own ~45 MB). Caches are warm for both.
 * Needs root (overlay snapshots, chown on extract).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, mkdirSync, openSync, readFileSync, utimesSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { Overlay2Applier } from '../../src/worker/diff/applier.js';
import { Overlay2Differ } from '../../src/worker/diff/differ.js';
import { Overlay2Snapshotter } from '../../src/worker/snapshot/overlay2-snapshotter.js';

interface Args {
  readonly bigMb: number;
  readonly bigFiles: number;
  readonly smallFiles: number;
  readonly perDir: number;
  readonly parents: number;
  readonly only: 'big' | 'small' | undefined;
  readonly dir: string;
  readonly keep: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = get('--only');
  if (only !== undefined && only !== 'big' && only !== 'small') throw new Error(`--only takes big or small, got ${only}`);
  return {
    bigMb: Number(get('--big-mb') ?? 1024),
    bigFiles: Number(get('--big-files') ?? 4),
    smallFiles: Number(get('--small-files') ?? 100_000),
    perDir: Number(get('--per-dir') ?? 1000),
    parents: Number(get('--parents') ?? 0),
    only,
    dir: get('--dir') ?? '/var/tmp',
    keep: argv.includes('--keep'),
  };
}

// ── child side: one measured operation per process ─────────────────────────────────────────────

async function child(argv: readonly string[]): Promise<void> {
  const [, op, root, a, b] = argv;
  if (root === undefined || a === undefined) throw new Error('child: missing arguments');
  const snap = new Overlay2Snapshotter({ root });
  const start = process.hrtime.bigint();
  if (op === 'diff') {
    if (b === undefined) throw new Error('child diff: missing output');
    await pipeline(new Overlay2Differ({ snapshotter: snap }).diff(a), createWriteStream(b));
  } else if (op === 'apply') {
    const r = await new Overlay2Applier({ snapshotter: snap }).apply(createReadStream(a, { highWaterMark: 1024 * 1024 }));
    process.stderr.write(`applied ${r.id}\n`);
  } else {
    throw new Error(`child: unknown op ${String(op)}`);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  process.stdout.write(`${JSON.stringify({ ms })}\n`);
}

// ── parent side ──────────────────────────────────────────────────────────────────────────────────

interface Measured {
  /** Wall seconds of the whole process (GNU time). */
  readonly seconds: number;
  /** Seconds of the operation itself (tsbuild's own clock; GNU tar: same as seconds). */
  readonly opSeconds: number;
  /** User + system CPU seconds of the process: steadier than wall time on a shared disk. */
  readonly cpuSeconds: number;
  readonly peakMb: number;
}

function timed(cmd: string, args: readonly string[], cwd?: string): Promise<Measured> {
  // Start every run with no dirty pages from the previous one, so runs do not pay for each other.
  execFileSync('sync');
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/time', ['-f', 'TIME %e %M %U %S', cmd, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const m = /TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(err);
      if (code !== 0 || !m) {
        reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.trim()}`));
        return;
      }
      const seconds = Number(m[1]);
      const own = /\{"ms":([\d.]+)\}/.exec(out);
      resolve({ seconds, opSeconds: own ? Number(own[1]) / 1000 : seconds, cpuSeconds: Number(m[3]) + Number(m[4]), peakMb: Number(m[2]) / 1024 });
    });
  });
}

function makeBigTree(dir: string, totalMb: number, files: number): number {
  const block = randomBytes(1024 * 1024);
  const perFile = Math.max(1, Math.floor(totalMb / files));
  for (let f = 0; f < files; f++) {
    const fd = openSync(join(dir, `big-${f}.bin`), 'w');
    for (let i = 0; i < perFile; i++) {
      block.writeUInt32LE(f * 1_000_003 + i, 0); // no two blocks alike
      writeSync(fd, block);
    }
    closeSync(fd);
  }
  return files;
}

/** A fixed time for the small tree's directories, so parents and child agree on it. */
const DIR_TIME = 1_600_000_000;

function smallDirName(i: number, perDir: number): string {
  return `d${String(Math.floor(i / perDir)).padStart(4, '0')}`;
}

/** The small tree's directories only, with fixed times: what each parent layer holds. */
function makeSmallDirs(dir: string, count: number, perDir: number): void {
  for (let i = 0; i < count; i += perDir) {
    const sub = join(dir, smallDirName(i, perDir));
    mkdirSync(sub);
    utimesSync(sub, DIR_TIME, DIR_TIME);
  }
}

function makeSmallTree(dir: string, count: number, perDir: number): number {
  const pool = randomBytes(8192);
  for (let i = 0; i < count; i++) {
    const sub = join(dir, smallDirName(i, perDir));
    if (i % perDir === 0) mkdirSync(sub);
    const size = (i * 7919) % 4096; // 0 B – 4 KiB, deterministic
    const fd = openSync(join(sub, `f${i}.txt`), 'w');
    writeSync(fd, pool, i % 4096, size);
    closeSync(fd);
  }
  for (let i = 0; i < count; i += perDir) {
    const sub = join(dir, smallDirName(i, perDir));
    utimesSync(sub, DIR_TIME, DIR_TIME);
  }
  return count + Math.ceil(count / perDir);
}

interface Row {
  readonly dataset: string;
  readonly op: 'diff' | 'apply';
  readonly tool: string;
  readonly m: Measured;
  readonly bytes: number;
  readonly entries: number;
}

function fmt(n: number, digits = 1): string {
  return n.toFixed(digits).padStart(9);
}

function printRows(rows: readonly Row[]): void {
  process.stdout.write(`\n${'dataset'.padEnd(22)}${'op'.padEnd(7)}${'tool'.padEnd(10)}${'wall s'.padStart(9)}${'op s'.padStart(9)}${'cpu s'.padStart(9)}${'MB/s'.padStart(9)}${'files/s'.padStart(11)}${'peak MB'.padStart(9)}\n`);
  for (const r of rows) {
    const s = r.m.opSeconds;
    process.stdout.write(`${r.dataset.padEnd(22)}${r.op.padEnd(7)}${r.tool.padEnd(10)}${fmt(r.m.seconds, 2)}${fmt(s, 2)}${fmt(r.m.cpuSeconds, 2)}${fmt(r.bytes / 1e6 / s)}${fmt(r.entries / s, 0).padStart(11)}${fmt(r.m.peakMb)}\n`);
  }
  for (const op of ['diff', 'apply'] as const) {
    const ours = rows.find((r) => r.op === op && r.tool === 'tsbuild');
    const gnu = rows.find((r) => r.op === op && r.tool === 'GNU tar');
    if (ours && gnu) {
      process.stdout.write(`  ${op}: tsbuild/GNU tar time ratio ${(ours.m.opSeconds / gnu.m.opSeconds).toFixed(2)} (op), ${(ours.m.seconds / gnu.m.seconds).toFixed(2)} (wall incl. node start), ${(ours.m.cpuSeconds / gnu.m.cpuSeconds).toFixed(2)} (cpu); memory ratio ${(ours.m.peakMb / gnu.m.peakMb).toFixed(1)}\n`);
    }
  }
}

async function benchDataset(args: Args, name: string, make: (dir: string) => number, makeParent?: (dir: string) => void): Promise<void> {
  const work = await mkdtemp(join(args.dir, 'tsbuild-bench-'));
  const root = join(work, 'root');
  const self = fileURLToPath(import.meta.url);
  try {
    const snap = new Overlay2Snapshotter({ root });
    let parent: string | undefined;
    for (let i = 0; makeParent !== undefined && i < args.parents; i++) {
      const p = await snap.prepare(parent === undefined ? {} : { parent });
      makeParent(p.upperDir);
      parent = await snap.commit(p);
    }
    const base = await snap.prepare(parent === undefined ? {} : { parent });
    process.stdout.write(`\n== ${name}: generating in ${base.upperDir} …\n`);
    const entries = make(base.upperDir);
    await snap.commit(base);
    execFileSync('sync');

    const ourTar = join(work, 'tsbuild.tar');
    const gnuTar = join(work, 'gnu.tar');
    const rows: Row[] = [];
    const ours = await timed(process.execPath, [self, '--child', 'diff', root, base.id, ourTar]);
    const bytes = readFileSync(ourTar, { flag: 'r' }).length;
    rows.push({ dataset: name, op: 'diff', tool: 'tsbuild', m: ours, bytes, entries });
    const gnu = await timed('tar', ['-cf', gnuTar, '--sort=name', '-C', base.upperDir, '.']);
    rows.push({ dataset: name, op: 'diff', tool: 'GNU tar', m: gnu, bytes, entries });
    await rm(gnuTar);

    const applied = await timed(process.execPath, [self, '--child', 'apply', root, ourTar]);
    rows.push({ dataset: name, op: 'apply', tool: 'tsbuild', m: applied, bytes, entries });
    const dest = join(work, 'gnu-extract');
    mkdirSync(dest);
    const extracted = await timed('tar', ['-xpf', ourTar, '-C', dest]);
    rows.push({ dataset: name, op: 'apply', tool: 'GNU tar', m: extracted, bytes, entries });
    printRows(rows);
    await snap.close();
  } finally {
    if (args.keep) process.stdout.write(`kept ${work}\n`);
    else await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    await child(argv);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('run as root: overlay snapshots and ownership need it');
  const args = parseArgs(argv);
  if (args.only !== 'small') {
    await benchDataset(args, `${args.bigMb} MB/${args.bigFiles} files`, (d) => makeBigTree(d, args.bigMb, args.bigFiles));
  }
  if (args.only !== 'big') {
    const label = `${args.smallFiles} small files${args.parents > 0 ? ` on ${args.parents} parents` : ''}`;
    await benchDataset(args, label, (d) => makeSmallTree(d, args.smallFiles, args.perDir), (d) => makeSmallDirs(d, args.smallFiles, args.perDir));
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
