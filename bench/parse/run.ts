/**
 * Parse + convert throughput on a generated Dockerfile of 10,000 instructions (the target is the
 * whole file in under 100 ms). Prints instructions/s, MB/s and peak memory.
 *
 *   npm run build && node dist/bench/parse/run.js [--instructions N] [--rounds R] [--warmup W] [--profile [FILE]]
 *
 * `--profile` then runs R more rounds under the CPU profiler (so the timings above are not
 * skewed by it), prints the functions with the most self time and writes FILE (.cpuprofile) if
 * given. `node dist/bench/parse/digests.js` is the companion check that a speed-up changed no
 * digest (see docs/llb.md, Performance), and `node dist/bench/parse/sweep.js` checks that the time per
 * instruction stays flat from 100 to 200,000 instructions.
 *
 * Each stage COPYs from the one before it, so the last stage reaches all of them: every instruction
 * is typed, expanded, turned into ops and marshalled. Wall time on a shared machine is noisy, so
 * CPU time (process.cpuUsage: main thread plus GC helpers), main-thread GC pauses and the load
 * average are printed too.
 */
import { cpus, loadavg } from 'node:os';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { parseDockerfile } from '../../src/frontend/dockerfile/parse.js';
import { parseInstructions } from '../../src/frontend/dockerfile/instructions/stages.js';
import { convertDockerfile } from '../../src/frontend/dockerfile/convert/convert.js';
import { loadDefinition } from '../../src/llb/definition.js';
import { generateDockerfile } from './generate.js';
import { summarizeProfile, withCpuProfile } from './profile.js';

if (process.argv.includes('--help')) {
  process.stdout.write('usage: node dist/bench/parse/run.js [--instructions N] [--rounds R] [--warmup W] [--profile [FILE]]\n'
    + '  (node dist/bench/parse/sweep.js --help: time per instruction across sizes)\n');
  process.exit(0);
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

const N = arg('instructions', 10_000);
const ROUNDS = arg('rounds', 7);
/** Rounds run first and left out of the medians: the JIT is still compiling in them. */
const WARMUP = process.argv.includes('--warmup') ? Math.max(0, Math.floor(Number(process.argv[process.argv.indexOf('--warmup') + 1]) || 0)) : 3;
const profileAt = process.argv.indexOf('--profile');
const profileFile = profileAt >= 0 && process.argv[profileAt + 1] && !process.argv[profileAt + 1]?.startsWith('--') ? process.argv[profileAt + 1] : undefined;

let peakRss = 0;
let peakHeap = 0;
const sample = (): void => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
};

const source = generateDockerfile(N);
const bytes = Buffer.byteLength(source);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const parseMs: number[] = [];
const typeMs: number[] = [];
const convertMs: number[] = [];
const totalMs: number[] = [];
const cpuMs: number[] = [];
const gcMs: number[] = [];
/** Main-thread GC pauses, summed per round (entries arrive asynchronously: see `gcEntries`). */
let gcPause = 0;
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPause += e.duration;
});
gcObserver.observe({ entryTypes: ['gc'] });
/** GC entries are queued from the GC epilogue and delivered a turn or two later: wait two. */
const gcEntries = async (): Promise<void> => {
  for (let i = 0; i < 2; i++) await new Promise((done) => setImmediate(done));
};
let vertices = 0;
let defBytes = 0;
let instructions = 0;
let firstRoundMs = 0;
for (let r = 0; r < WARMUP + ROUNDS; r++) {
  sample();
  await gcEntries(); // the previous round's
  gcPause = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const ast = parseDockerfile(source, { file: 'Dockerfile' });
  const t1 = performance.now();
  const typed = parseInstructions(ast);
  const t2 = performance.now();
  const result = await convertDockerfile(ast, { platform: 'linux/amd64', buildArgs: new Map([['VERSION', '2.0.0']]) });
  const t3 = performance.now();
  const c = process.cpuUsage(c0);
  sample();
  if (r === 0) firstRoundMs = t3 - t0 - (t2 - t1);
  if (r < WARMUP) continue;
  cpuMs.push((c.user + c.system) / 1000);
  await gcEntries();
  gcMs.push(gcPause);
  parseMs.push(t1 - t0);
  typeMs.push(t2 - t1);
  convertMs.push(t3 - t2);
  totalMs.push(t3 - t0 - (t2 - t1)); // parse + convert (convert types the instructions itself)
  instructions = ast.children.length;
  defBytes = result.definition.bytes.length;
  if (r === WARMUP) {
    vertices = loadDefinition(result.definition.bytes).vertices.size;
    sample();
  }
  void typed;
}

const total = median(totalMs);
const fmt = (x: number, d = 1): string => x.toFixed(d);
const mb = (x: number): string => `${fmt(x / 1024 / 1024)} MB`;
process.stdout.write([
  `tsbuild bench/parse: ${instructions} instructions, ${fmt(bytes / 1024)} KiB of Dockerfile, ${ROUNDS} rounds after ${WARMUP} warm-up rounds (medians)`,
  `  parse            ${fmt(median(parseMs))} ms`,
  `  type (alone)     ${fmt(median(typeMs))} ms`,
  `  convert + marshal ${fmt(median(convertMs))} ms  → ${vertices} vertices, ${fmt(defBytes / 1024)} KiB definition`,
  `  parse + convert  ${fmt(total)} ms  (target < 100 ms: ${total < 100 ? 'met' : 'MISSED'})`,
  `  throughput       ${Math.round(instructions / (total / 1000)).toLocaleString('en-US')} instructions/s, ${fmt(bytes / 1024 / 1024 / (total / 1000), 2)} MB/s`,
  `  CPU time         ${fmt(median(cpuMs))} ms per round (parse + type + convert, GC threads included)`,
  `  GC pauses        ${fmt(median(gcMs))} ms per round (main thread, parse + type + convert)`,
  `  first round      ${fmt(firstRoundMs)} ms (cold JIT)`,
  `  machine          ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  `  peak memory      RSS ${mb(peakRss)}, heap ${mb(peakHeap)}`,
  '',
].join('\n'));

gcObserver.disconnect();

if (profileAt >= 0) {
  const profile = await withCpuProfile(async () => {
    for (let r = 0; r < ROUNDS; r++) {
      await convertDockerfile(parseDockerfile(source, { file: 'Dockerfile' }), { platform: 'linux/amd64', buildArgs: new Map([['VERSION', '2.0.0']]) });
    }
  }, profileFile ? { file: profileFile } : {});
  process.stdout.write(`CPU profile of ${ROUNDS} more rounds, top functions by self time${profileFile ? ` (written to ${profileFile})` : ''}:\n${summarizeProfile(profile, 25)}\n`);
}
