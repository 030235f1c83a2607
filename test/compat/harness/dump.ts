/**
 * Optional debugging output: with COMPAT_DUMP_DIR set, every built image is written there as
 * `<case>.<side>.json` (config, history, layer entry counts, and one line per path), so two sides
 * can be diffed with ordinary tools.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeEntry } from './compare.js';
import type { BuiltImage } from './types.js';

export const dumpDir = process.env['COMPAT_DUMP_DIR'];

export async function dumpBuilt(b: BuiltImage): Promise<void> {
  if (!dumpDir) return;
  await mkdir(dumpDir, { recursive: true });
  const fs: Record<string, string> = {};
  for (const [p, e] of b.flat.fs) fs[p] = describeEntry(e);
  const doc = {
    case: b.caseName,
    side: b.side,
    format: b.archive.format,
    config: b.archive.config.config,
    author: b.archive.config.author,
    history: b.archive.config.history,
    entriesByLayer: b.flat.entriesByLayer,
    removedByLayer: b.flat.removedByLayer,
    fs,
  };
  await writeFile(join(dumpDir, `${b.caseName}.${b.side}.json`), `${JSON.stringify(doc, null, 2)}\n`);
}
