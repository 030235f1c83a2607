/**
 * The change scenarios of `tsbuild compare`: by default one per step that copies context files —
 * the files that step read (from the cold build's history, so exactly what its cache key covered),
 * touched together — across all variants, in build order, each distinct file set once. Given
 * `--change` commands replace them. "Touch" changes content (a byte is appended), not just the
 * mtime: cache keys fingerprint content, so an mtime-only touch would change nothing.
 */
import type { CompareScenario } from './compare-types.js';

/** A step of a variant's cold build and the regular files (context-relative) it read. */
export interface StepFiles {
  readonly instruction: string;
  readonly files: readonly string[];
}

/** At most this many names in a scenario's description. */
const NAMED = 3;

export function defaultScenarios(variants: readonly (readonly StepFiles[])[]): CompareScenario[] {
  const out: CompareScenario[] = [];
  const seen = new Set<string>();
  for (const steps of variants) {
    for (const s of steps) {
      if (s.files.length === 0) continue;
      const files = [...new Set(s.files)].sort();
      const key = JSON.stringify(files);
      if (seen.has(key)) continue;
      seen.add(key);
      const named = files.length <= NAMED ? files.join(' ') : `${files.length} files (${files.slice(0, NAMED).join(', ')}, …) read by ${s.instruction}`;
      out.push({ id: `s${out.length + 1}`, description: `touch ${named}`, files });
    }
  }
  return out;
}

/** Scenarios for `--change` commands, in the order given. */
export function commandScenarios(commands: readonly string[]): CompareScenario[] {
  return commands.map((c, i) => ({ id: `s${i + 1}`, description: c, files: [] }));
}
