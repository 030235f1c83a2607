/**
 * Before/after CPU time of parse + convert with both builds in one process, the two conversions of
 * each round in random order. On the shared 2-core machine separate runs minutes apart moved ±30 %
 * with the load; side by side in one process, both builds see the same load.
 *
 *   node dist/bench/parse/ab.js --base /path/to/other/checkout [--instructions N] [--rounds R] [--seed S]
 *
 * `--base` is a checkout whose `dist/` is built (e.g. a copy of main's dist in a temp dir, with a
 * node_modules link beside it); "new" is the dist this file runs from. The first 5 rounds of each
 * are warm-up. Prints medians and minima of CPU time (process.cpuUsage: GC threads included) and,
 * on Linux, of the main thread's own CPU time: the steadier figure under load (at load 7–9, two
 * identical builds came within ±4 % of each other by its sum over 40 rounds). Run a few seeds and
 * both ways round (`--base` the other build) before believing a few per cent.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDockerfile } from './generate.js';

if (process.argv.includes('--help') || !process.argv.includes('--base')) {
  process.stdout.write('usage: node dist/bench/parse/ab.js --base CHECKOUT [--instructions N] [--rounds R] [--seed S]\n');
  process.exit(process.argv.includes('--help') ? 0 : 2);
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? def : def;
}

const N = Number(arg('instructions', '10000'));
const ROUNDS = Number(arg('rounds', '40'));
const WARMUP = 5;
// This file is dist/bench/parse/ab.js: the checkout is three levels up.
const self = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const base = resolve(arg('base', '.'));

type Convert = (source: string) => Promise<unknown>;

async function load(root: string): Promise<Convert> {
  const parse = await import(join(root, 'dist', 'src', 'frontend', 'dockerfile', 'parse.js')) as typeof import('../../src/frontend/dockerfile/parse.js');
  const convert = await import(join(root, 'dist', 'src', 'frontend', 'dockerfile', 'convert', 'convert.js')) as typeof import('../../src/frontend/dockerfile/convert/convert.js');
  return (source) => convert.convertDockerfile(parse.parseDockerfile(source, { file: 'Dockerfile' }), { platform: 'linux/amd64', buildArgs: new Map([['VERSION', '2.0.0']]) });
}

/**
 * The main thread's own CPU time in ms (Linux: schedstat's time on the CPU, in ns), without the GC
 * helper threads that process.cpuUsage counts; undefined elsewhere.
 */
function mainThreadMs(): number | undefined {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

const source = generateDockerfile(N);
const builds: Record<'base' | 'new', Convert> = { base: await load(base), new: await load(self) };
const cpu: Record<'base' | 'new', number[]> = { base: [], new: [] };
const main: Record<'base' | 'new', number[]> = { base: [], new: [] };
const load0 = loadavg()[0] ?? 0;
// The order within a round is random (seeded): alternating it aliased with the mark-compact that
// comes every other round or so and gave one build of two identical ones ~10 % less.
let seed = Number(arg('seed', '1')) >>> 0;
const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
for (let r = 0; r < WARMUP + ROUNDS; r++) {
  for (const k of next() < 0.5 ? (['base', 'new'] as const) : (['new', 'base'] as const)) {
    const c0 = process.cpuUsage();
    const m0 = mainThreadMs();
    await builds[k](source);
    const c = process.cpuUsage(c0);
    const m1 = mainThreadMs();
    if (r < WARMUP) continue;
    cpu[k].push((c.user + c.system) / 1000);
    if (m0 !== undefined && m1 !== undefined) main[k].push(m1 - m0);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const min = (xs: number[]): number => Math.min(...xs);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const lines = (['base', 'new'] as const).map((k) => `  ${k.padEnd(4)}  CPU ms per round: median ${median(cpu[k]).toFixed(1)}, min ${min(cpu[k]).toFixed(1)}`
  + (main[k].length > 0 ? `; main thread: median ${median(main[k]).toFixed(1)}, min ${min(main[k]).toFixed(1)}` : ''));
process.stdout.write([
  `tsbuild bench/parse/ab: ${N} instructions, ${ROUNDS} rounds of each in random order after ${WARMUP} warm-up rounds`,
  ...lines,
  `  new/base: median ${(median(cpu.new) / median(cpu.base)).toFixed(3)}, min ${(min(cpu.new) / min(cpu.base)).toFixed(3)}`
    + (main.new.length > 0 ? `; main thread: sum ${(sum(main.new) / sum(main.base)).toFixed(3)}, median ${(median(main.new) / median(main.base)).toFixed(3)}` : '')
    + `; load average ${load0.toFixed(1)} -> ${(loadavg()[0] ?? 0).toFixed(1)}`,
  '',
].join('\n'));
