/**
 * Does parse + convert scale linearly? Runs several Dockerfile sizes interleaved (size order
 * rotated each round, so load changes on the shared machine hit every size alike) and prints, per
 * size, the median wall and CPU time per instruction and how far each is above the cheapest size of its shape:
 * a ratio over 2 is flagged as non-linear.
 *
 *   npm run build && node dist/bench/parse/sweep.js [--sizes 100,1000,10000,100000,200000,env:1000,env:20000] [--rounds 3]
 *
 * A size is `N` (the mixed Dockerfile of generate.ts) or `env:N` (N-2 ENV lines and a RUN). Small
 * sizes repeat within a round until ~250 ms have passed, so their per-instruction figure is not
 * just timer and JIT noise; every size gets one unmeasured warm-up run first.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseDockerfile } from '../../src/frontend/dockerfile/parse.js';
import { convertDockerfile } from '../../src/frontend/dockerfile/convert/convert.js';
import { generate, type Shape } from './generate.js';

if (process.argv.includes('--help')) {
  process.stdout.write('usage: node dist/bench/parse/sweep.js [--sizes 100,1000,10000,100000,200000,env:1000,env:20000] [--rounds 3]\n'
    + '  N = the mixed generated Dockerfile of N instructions; env:N = N-2 ENV lines and a RUN\n');
  process.exit(0);
}

function option(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? def : def;
}

interface Size {
  readonly label: string;
  readonly shape: Shape;
  readonly n: number;
  readonly source: string;
  readonly wallUs: number[];
  readonly cpuUs: number[];
}

const sizes: Size[] = option('sizes', '100,1000,10000,100000,200000,env:1000,env:20000').split(',').map((spec) => {
  const [shape, count] = spec.includes(':') ? (spec.split(':') as [Shape, string]) : (['mixed', spec] as const);
  const n = Number(count);
  if (!Number.isInteger(n) || n < 3 || (shape !== 'mixed' && shape !== 'env')) throw new Error(`bad size ${spec}`);
  return { label: spec, shape, n, source: generate(shape, n), wallUs: [], cpuUs: [] };
});
const rounds = Number(option('rounds', '3'));

async function once(s: Size): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await convertDockerfile(parseDockerfile(s.source, { file: 'Dockerfile' }), { platform: 'linux/amd64', buildArgs: new Map([['VERSION', '2.0.0']]) });
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

/** One measurement: repeats until 250 ms have passed; returns µs per instruction. */
async function measure(s: Size): Promise<void> {
  let wall = 0;
  let cpu = 0;
  let runs = 0;
  do {
    const r = await once(s);
    wall += r.wall;
    cpu += r.cpu;
    runs++;
  } while (wall < 250);
  s.wallUs.push((1000 * wall) / runs / s.n);
  s.cpuUs.push((1000 * cpu) / runs / s.n);
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const load0 = loadavg();
for (const s of sizes) await once(s);
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < sizes.length; i++) await measure(sizes[(i + r) % sizes.length] as Size);
}
/** The cheapest CPU time per instruction among the sizes of a shape (shapes differ in cost). */
const best = (shape: Shape): number => Math.min(...sizes.filter((s) => s.shape === shape).map((s) => median(s.cpuUs)));
const lines = [
  `tsbuild bench/parse sweep: parse + convert, ${rounds} interleaved rounds (medians), ${new Date().toISOString()}`,
  `  machine: ${cpus().length} cores, load average ${load0.map((l) => l.toFixed(1)).join(' ')} → ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  '  size            wall/run    CPU/run   wall µs/instr  CPU µs/instr  CPU vs best of shape',
];
for (const s of sizes) {
  const w = median(s.wallUs);
  const c = median(s.cpuUs);
  const ratio = c / best(s.shape);
  lines.push(`  ${s.label.padEnd(14)} ${`${((w * s.n) / 1000).toFixed(1)} ms`.padStart(10)} ${`${((c * s.n) / 1000).toFixed(1)} ms`.padStart(10)} ${w.toFixed(2).padStart(14)} ${c.toFixed(2).padStart(13)} ${`${ratio.toFixed(2)}x`.padStart(11)}${ratio > 2 ? '  NON-LINEAR' : ''}`);
}
process.stdout.write(`${lines.join('\n')}\n`);
