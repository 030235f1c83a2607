/**
 * Before/after CPU time of parse + convert with both builds in one process, rounds alternating
 * (the order swapping every round). On the shared 2-core machine separate runs minutes apart moved
 * ±30 % with the load; side by side in one process, both builds see the same load.
 *
 *   node dist/bench/parse/ab.js --base /path/to/other/checkout [--instructions N] [--rounds R]
 *
 * `--base` is a checkout whose `dist/` is built (e.g. a copy of main's dist in a temp dir, with a
 * node_modules link beside it); "new" is the dist this file runs from. The first 5 rounds of each
 * are warm-up. Prints medians and minima of CPU time (process.cpuUsage: GC threads included).
 */
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDockerfile } from './generate.js';

if (process.argv.includes('--help') || !process.argv.includes('--base')) {
  process.stdout.write('usage: node dist/bench/parse/ab.js --base CHECKOUT [--instructions N] [--rounds R]\n');
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

const source = generateDockerfile(N);
const builds: Record<'base' | 'new', Convert> = { base: await load(base), new: await load(self) };
const cpu: Record<'base' | 'new', number[]> = { base: [], new: [] };
const load0 = loadavg()[0] ?? 0;
for (let r = 0; r < WARMUP + ROUNDS; r++) {
  for (const k of r % 2 ? (['base', 'new'] as const) : (['new', 'base'] as const)) {
    const c0 = process.cpuUsage();
    await builds[k](source);
    const c = process.cpuUsage(c0);
    if (r >= WARMUP) cpu[k].push((c.user + c.system) / 1000);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const min = (xs: number[]): number => Math.min(...xs);
const lines = (['base', 'new'] as const).map((k) => `  ${k.padEnd(4)}  CPU ms per round: median ${median(cpu[k]).toFixed(1)}, min ${min(cpu[k]).toFixed(1)}`);
process.stdout.write([
  `tsbuild bench/parse/ab: ${N} instructions, ${ROUNDS} alternating rounds of each after ${WARMUP} warm-up rounds`,
  ...lines,
  `  new/base: median ${(median(cpu.new) / median(cpu.base)).toFixed(3)}, min ${(min(cpu.new) / min(cpu.base)).toFixed(3)}; load average ${load0.toFixed(1)} -> ${(loadavg()[0] ?? 0).toFixed(1)}`,
  '',
].join('\n'));
