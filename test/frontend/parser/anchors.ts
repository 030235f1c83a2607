/** Paths into the shared BuildKit parser conformance data (never copied into the repo). */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { anchorsDir } from '../../helpers/paths.js';

export const parserAnchors = join(anchorsDir, 'buildkit-parser-testfiles');
export const haveParserAnchors = existsSync(join(parserAnchors, 'FORMAT.md'));

/** Case directory names under testfiles/ or testfiles-negative/, sorted. */
export function caseNames(kind: 'testfiles' | 'testfiles-negative'): string[] {
  if (!haveParserAnchors) return [];
  return readdirSync(join(parserAnchors, kind)).sort();
}
