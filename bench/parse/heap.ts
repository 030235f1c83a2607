/**
 * What a parse + convert leaves for the garbage collector: bytes promoted to the old generation
 * per round of the generated Dockerfile (the old space's growth over a round that starts right
 * after a full collection). Objects that live through the whole conversion (AST, typed
 * instructions, image history, op graph) are copied by every scavenge they survive and promoted;
 * their volume, not the short-lived garbage, is what sets the GC share of a conversion's CPU time.
 * Deterministic enough to compare builds where CPU times on the shared machine are not.
 *
 *   node --expose-gc dist/bench/parse/heap.js [--instructions N] [--rounds R]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { parseDockerfile } from '../../src/frontend/dockerfile/parse.js';
import { convertDockerfile } from '../../src/frontend/dockerfile/convert/convert.js';
import { generateDockerfile } from './generate.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || process.argv.includes('--help')) {
  process.stdout.write('usage: node --expose-gc dist/bench/parse/heap.js [--instructions N] [--rounds R]\n');
  process.exit(gc ? 0 : 2);
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const N = arg('instructions', 10_000);
const ROUNDS = arg('rounds', 8);
const WARMUP = 2;
const oldSpace = (): number => getHeapSpaceStatistics().filter((s) => s.space_name === 'old_space').reduce((a, s) => a + s.space_used_size, 0);
let scavenges = 0;
let majors = 0;
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as { detail?: { kind?: number } }).detail?.kind;
    if (kind === 1) scavenges++; // NODE_PERFORMANCE_GC_MINOR
    else majors++;
  }
});
observer.observe({ entryTypes: ['gc'] });
const settle = async (): Promise<void> => {
  for (let i = 0; i < 2; i++) await new Promise((done) => setImmediate(done));
};

const source = generateDockerfile(N);
const promoted: number[] = [];
const counts: string[] = [];
for (let r = 0; r < WARMUP + ROUNDS; r++) {
  gc();
  await settle();
  scavenges = 0;
  majors = 0;
  const before = oldSpace();
  await convertDockerfile(parseDockerfile(source, { file: 'Dockerfile' }), { platform: 'linux/amd64', buildArgs: new Map([['VERSION', '2.0.0']]) });
  const after = oldSpace();
  await settle();
  if (r < WARMUP) continue;
  // A full collection inside the round would make the growth meaningless: such rounds are marked.
  promoted.push(majors === 0 ? (after - before) / 1e6 : Number.NaN);
  counts.push(`${scavenges}${majors > 0 ? `+${majors} major` : ''}`);
}
observer.disconnect();
const valid = promoted.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
process.stdout.write([
  `tsbuild bench/parse/heap: ${N} instructions, ${ROUNDS} rounds after ${WARMUP} warm-up rounds`,
  `  promoted per round   ${promoted.map((x) => (Number.isNaN(x) ? 'n/a' : x.toFixed(1))).join(' ')} MB (median ${valid[valid.length >> 1]?.toFixed(1) ?? 'n/a'})`,
  `  scavenges per round  ${counts.join(' ')}`,
  '',
].join('\n'));
