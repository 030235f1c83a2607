/**
 * The committed CST types must match the grammar. Regenerate with
 * UPDATE_CST_TYPES=1 NODE_OPTIONS=--experimental-vm-modules npx jest test/frontend/parser/cst-types
 */
import { expect, test } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// The parser's grammar objects come from the bundle, so the generator must too (instanceof checks).
import { generateCstDts } from '../../../src/frontend/dockerfile/chevrotain.js';
import { repoRoot } from '../../helpers/paths.js';
import { cstParser } from '../../../src/frontend/dockerfile/cst-parser.js';

const file = join(repoRoot, 'src', 'frontend', 'dockerfile', 'cst-types.ts');

test('src/frontend/dockerfile/cst-types.ts is generated from the current grammar', () => {
  const committed = readFileSync(file, 'utf8');
  const header = committed.slice(0, committed.indexOf('*/\n') + 3);
  const expected = `${header}${generateCstDts(cstParser.getGAstProductions())}`;
  if (process.env['UPDATE_CST_TYPES'] === '1') writeFileSync(file, expected);
  expect(committed.trimEnd()).toBe(expected.trimEnd());
});
