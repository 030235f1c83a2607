/**
 * COPY of many small files: tsbuild's file-op copy (src/worker/fileop/copy.ts, what `COPY . /dst`
 * runs) against GNU coreutils `cp -a` on the same source tree into the same kind of destination —
 * the merged directory of a fresh overlay2 snapshot, as a COPY step writes into it (issue 14:
 * 100,000 files within 1.2x of `cp -a`, 1,000 files under 60 ms).
 *
 *   npm run build && node dist/bench/worker/copy.js [--files 1000,100000] [--per-dir 1000]
 *                                                   [--runs 5] [--dir /var/tmp] [--keep]
 *                                                   [--old DIST]
 *
 * Each measured run is its own process (a fresh snapshot, mounted; only the copy is timed: our
 * `copy()` call, or `cp -a` spawned and waited for). Runs of the two tools alternate so load drift
 * on a shared machine hits both alike; the table shows medians and the ratio ours / cp -a. Page
 * cache is warm for both (the source is read once before the first run). `--old DIST` adds a third
 * column, the copy of another build's dist/ (e.g. the base branch's), interleaved the same way, for
 * before/after figures.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, utimesSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copy } from '../../src/worker/fileop/copy.js';
import { Overlay2Snapshotter } from '../../src/worker/snapshot/overlay2-snapshotter.js';

interface Args {
  readonly files: readonly number[];
  readonly perDir: number;
  readonly runs: number;
  readonly dir: string;
  readonly keep: boolean;
  readonly old: string | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    files: (get('--files') ?? '1000,100000').split(',').map(Number),
    perDir: Number(get('--per-dir') ?? 1000),
    runs: Number(get('--runs') ?? 5),
    dir: get('--dir') ?? '/var/tmp',
    keep: argv.includes('--keep'),
    old: get('--old'),
  };
}

// ── child side: one measured copy per process ───────────────────────────────────────────────────

async function child(argv: readonly string[]): Promise<void> {
  const [, tool, root, src, oldDist] = argv;
  if (root === undefined || src === undefined) throw new Error('child: missing arguments');
  const snap = new Overlay2Snapshotter({ root });
  const active = await snap.prepare();
  let ms = 0;
  let cpuMs = 0;
  // Loaded before the clock starts, as this build's copy is.
  const fn = tool === 'old' ? ((await import(join(oldDist ?? '', 'src/worker/fileop/copy.js'))) as { copy: typeof copy }).copy : copy;
  try {
    await snap.withMount(active, async (dest) => {
      const start = process.hrtime.bigint();
      const cpu0 = process.cpuUsage();
      if (tool === 'tsbuild' || tool === 'old') {
        await fn({ src: '/', dest: '/app/', dirCopyContents: true, createDestPath: true, allowWildcard: true }, { srcRoot: src, destRoot: dest, defaultOwner: { uid: 0, gid: 0 } });
      } else if (tool === 'cp') {
        mkdirSync(join(dest, 'app'));
        const r = spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', 'cp', '-a', `${src}/.`, join(dest, 'app')], { stdio: ['ignore', 'inherit', 'pipe'] });
        const m = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr.toString());
        if (r.status !== 0 || !m) throw new Error(`cp -a failed (${String(r.status)}): ${r.stderr.toString()}`);
        cpuMs = (Number(m[1]) + Number(m[2])) * 1000;
      } else {
        throw new Error(`child: unknown tool ${String(tool)}`);
      }
      ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (tool !== 'cp') {
        const d = process.cpuUsage(cpu0);
        cpuMs = (d.user + d.system) / 1000; // every thread of the process: the pool's too
      }
    });
  } finally {
    // The snapshot stays until the parent removes the whole work directory after the last run: on
    // an ext4 without a journal (this machine's root) an inode freed less than 5-10 s ago is skipped
    // by the allocator after a look-up of its inode-table block (recently_deleted()), so creating
    // N files right after the previous run deleted N costs O(N²) kernel time (600 ms of sys time for
    // 1,000 files, either tool) — the bench's own deletions, not the copy.
    await snap.close();
  }
  process.stdout.write(`${JSON.stringify({ ms, cpuMs })}\n`);
}

// ── parent side ──────────────────────────────────────────────────────────────────────────────────

interface Sample {
  readonly ms: number;
  readonly cpuMs: number;
}

function run(self: string, tool: string, root: string, src: string, old?: string): Promise<Sample> {
  execFileSync('sync');
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [self, '--child', tool, root, src, ...(old ? [old] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const m = /\{"ms":([\d.]+),"cpuMs":([\d.]+)\}/.exec(out);
      if (code !== 0 || !m) reject(new Error(`${tool} run failed (${String(code)})`));
      else resolve({ ms: Number(m[1]), cpuMs: Number(m[2]) });
    });
  });
}

function makeTree(dir: string, count: number, perDir: number): void {
  const pool = randomBytes(8192);
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `d${String(Math.floor(i / perDir)).padStart(4, '0')}`);
    if (i % perDir === 0) mkdirSync(sub);
    const size = (i * 7919) % 4096; // 0 B – 4 KiB, deterministic
    const fd = openSync(join(sub, `f${i}.txt`), 'w');
    writeSync(fd, pool, i % 4096, size);
    closeSync(fd);
  }
  for (let i = 0; i < count; i += perDir) {
    const sub = join(dir, `d${String(Math.floor(i / perDir)).padStart(4, '0')}`);
    utimesSync(sub, 1_600_000_000, 1_600_000_000);
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    await child(argv);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('run as root: overlay snapshots need it');
  const args = parseArgs(argv);
  const self = fileURLToPath(import.meta.url);
  const work = await mkdtemp(join(args.dir, 'tsbuild-copy-bench-'));
  try {
    const tools = ['tsbuild', 'cp', ...(args.old ? ['old'] : [])];
    process.stdout.write(`medians of ${args.runs} runs, tools interleaved; wall ms and CPU ms (user+sys, all threads); ratio = tool / cp -a\n`);
    process.stdout.write(`${'files'.padStart(8)}${tools.map((t) => `${t.padStart(9)} wall${'cpu'.padStart(7)}${'÷cp'.padStart(12)}`).join('')}\n`);
    for (const n of args.files) {
      const src = join(work, `src-${n}`);
      mkdirSync(src);
      makeTree(src, n, args.perDir);
      execFileSync('tar', ['-cf', '/dev/null', '-C', src, '.']); // warm the page cache for every tool
      const root = join(work, `root-${n}`);
      const samples = new Map<string, Sample[]>(tools.map((t) => [t, []]));
      for (let i = 0; i < args.runs; i++) {
        // Rotate which tool goes first, so none always runs right after another's writeback.
        for (let k = 0; k < tools.length; k++) {
          const t = tools[(i + k) % tools.length] as string;
          samples.get(t)?.push(await run(self, t, root, src, args.old));
        }
      }
      const med = (t: string, f: (x: Sample) => number): number => median((samples.get(t) ?? []).map(f));
      const cpWall = med('cp', (x) => x.ms);
      const cpCpu = med('cp', (x) => x.cpuMs);
      const cols = tools.map((t) => {
        const w = med(t, (x) => x.ms);
        const c = med(t, (x) => x.cpuMs);
        return `${w.toFixed(0).padStart(14)}${c.toFixed(0).padStart(7)}${`${(w / cpWall).toFixed(2)}/${(c / cpCpu).toFixed(2)}`.padStart(12)}`;
      });
      process.stdout.write(`${String(n).padStart(8)}${cols.join('')}\n`);
      for (const t of tools) process.stdout.write(`${''.padStart(8)} ${t} wall [${(samples.get(t) ?? []).map((x) => x.ms.toFixed(0)).join(' ')}]\n`);
    }
  } finally {
    if (args.keep) process.stdout.write(`kept ${work}\n`);
    else await rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
