/**
 * The seed examples (examples/split: many layers; examples/single: one big RUN) per tool: cold
 * build, no-op rebuild, and a one-file-change rebuild (package.json edited, as a dependency bump
 * would), with the image's layers before and after the change, so the bytes a push would have to
 * upload again can be compared. Runs are interleaved across tools (run 1 of each tool, then run 2…)
 * so that load drift on a shared machine hits every tool alike, in alternating order (A B, B A, …)
 * so that no tool always builds right after the same other tool; and before every timed build the
 * page cache's dirty data is written out (`sync`) and the machine is let go idle (bench/lib/idle.ts),
 * neither timed, so that no build pays for the disk writes or the leftover work of the one before
 * it (the previous build's layers, the 66 MB `docker save` archive that reads Docker's layers,
 * dockerd still busy after it). Before this, tsbuild always built right after Docker's `docker save`.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TsbuildError } from '../../src/util/errors.js';
import { changedLayers } from '../lib/layers.js';
import { settle } from '../lib/idle.js';
import { examplesDir } from '../lib/paths.js';
import { seconds } from '../lib/report.js';
import type { BuildOutcome, Builder, ImageLayer } from '../lib/types.js';

export type ExampleName = 'split' | 'single';
export const EXAMPLES: readonly ExampleName[] = ['split', 'single'];

export interface ChangeRun {
  readonly outcome: BuildOutcome;
  /** The layers that differ from the image before this change: what a push re-uploads. */
  readonly changed: readonly ImageLayer[];
}

/** A builder as it appears in the tables: its tool name, or e.g. "tsbuild (old)" for another build. */
export interface LabelledBuilder {
  readonly label: string;
  readonly builder: Builder;
}

export interface ExampleResult {
  /** The builder's label: the tool name, or "tsbuild (old)". */
  readonly tool: string;
  readonly example: ExampleName;
  readonly cold: readonly BuildOutcome[];
  readonly noop: readonly BuildOutcome[];
  readonly change: readonly ChangeRun[];
  /** The image after a cold build. */
  readonly image: readonly ImageLayer[];
}

interface ToolState {
  readonly label: string;
  readonly builder: Builder;
  readonly ctx: string;
  readonly cold: BuildOutcome[];
  readonly noop: BuildOutcome[];
  readonly change: ChangeRun[];
  image: ImageLayer[];
  previous: ImageLayer[];
}

const progress = (s: string): void => {
  process.stderr.write(`  ${s}\n`);
};

/** package.json with another version: one changed file, as a dependency bump would be. */
async function editPackageJson(ctx: string, n: number): Promise<void> {
  const file = join(ctx, 'package.json');
  const text = await readFile(file, 'utf8');
  const next = text.replace(/"version": "[^"]*"/, `"version": "1.0.${n}"`);
  if (next === text) throw new TsbuildError('BENCH_EDIT_FAILED', `${file}: no "version" field to change`);
  await writeFile(file, next);
}

/** Run `i`'s tool order: as given on even runs, reversed on odd ones. */
export function runOrder<T>(items: readonly T[], i: number): readonly T[] {
  return i % 2 === 0 ? items : [...items].reverse();
}

export async function benchExample(opts: {
  readonly example: ExampleName;
  readonly builders: readonly LabelledBuilder[];
  readonly workDir: string;
  readonly runs: number;
  readonly signal: AbortSignal;
}): Promise<ExampleResult[]> {
  const { example, runs, signal } = opts;
  const tag = `bench-${example}`;
  const states: ToolState[] = [];
  for (const [i, { label, builder }] of opts.builders.entries()) {
    // A private copy per builder: the change runs edit package.json.
    const ctx = join(opts.workDir, `${builder.name}-${i}-${example}`);
    await cp(join(examplesDir, example), ctx, { recursive: true });
    states.push({ label, builder, ctx, cold: [], noop: [], change: [], image: [], previous: [] });
  }
  for (let i = 0; i < runs; i++) {
    for (const s of runOrder(states, i)) {
      await s.builder.reset({ signal });
      await settle({ signal });
      const o = await s.builder.build({ contextDir: s.ctx, tag }, { signal });
      s.cold.push(o);
      progress(`${example} ${s.label}: cold build ${i + 1}/${runs} ${seconds(o.wallMs)}`);
    }
  }
  for (const s of states) s.image = s.previous = await s.builder.layers(tag, { signal });
  for (let i = 0; i < runs; i++) {
    for (const s of runOrder(states, i)) {
      await settle({ signal });
      const o = await s.builder.build({ contextDir: s.ctx, tag }, { signal });
      s.noop.push(o);
      progress(`${example} ${s.label}: no-op rebuild ${i + 1}/${runs} ${seconds(o.wallMs)}`);
    }
  }
  for (let i = 0; i < runs; i++) {
    for (const s of runOrder(states, i)) {
      await editPackageJson(s.ctx, i + 1);
      await settle({ signal });
      const outcome = await s.builder.build({ contextDir: s.ctx, tag }, { signal });
      const after = await s.builder.layers(tag, { signal });
      s.change.push({ outcome, changed: changedLayers(s.previous, after) });
      s.previous = after;
      progress(`${example} ${s.label}: one-file change ${i + 1}/${runs} ${seconds(outcome.wallMs)}`);
    }
  }
  return states.map((s) => ({ tool: s.label, example, cold: s.cold, noop: s.noop, change: s.change, image: s.image }));
}
