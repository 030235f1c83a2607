import { expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeIf } from '../../helpers/skip.js';
import { caseNames, haveParserAnchors, parserAnchors } from './anchors.js';
import { dumpAST, parseDockerfile } from '../../../src/frontend/dockerfile/parse.js';
import { UserInputError } from '../../../src/util/errors.js';

describeIf(haveParserAnchors, 'BuildKit parser anchors not found', 'BuildKit parser golden files', () => {
  const positives = caseNames('testfiles');
  const negatives = caseNames('testfiles-negative');

  test('the data set is complete (33 positive, 4 negative)', () => {
    expect(positives).toHaveLength(33);
    expect(negatives).toHaveLength(4);
  });

  test.each(positives)('%s dumps exactly as BuildKit', (name) => {
    const dir = join(parserAnchors, 'testfiles', name);
    const ast = parseDockerfile(readFileSync(join(dir, 'Dockerfile')), { file: `${name}/Dockerfile` });
    expect(dumpAST(ast)).toBe(readFileSync(join(dir, 'result'), 'utf8'));
  });

  test.each(negatives)('%s is rejected with a located error', (name) => {
    const file = `${name}/Dockerfile`;
    let err: unknown;
    try {
      parseDockerfile(readFileSync(join(parserAnchors, 'testfiles-negative', name, 'Dockerfile')), { file });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserInputError);
    const u = err as UserInputError;
    expect(u.code).toBe('DOCKERFILE_PARSE');
    expect(u.location?.file).toBe(file);
    expect(u.location?.line).toBeGreaterThanOrEqual(1);
    expect(u.location?.column).toBeGreaterThanOrEqual(1);
    expect(typeof u.sourceLine).toBe('string');
  });

  test('testfile-line: instruction line ranges', () => {
    const ast = parseDockerfile(readFileSync(join(parserAnchors, 'testfile-line', 'Dockerfile')), { file: 'Dockerfile' });
    expect(ast.children.map((c) => [c.startLine, c.endLine])).toEqual([[5, 5], [11, 12], [17, 31]]);
    expect(ast.directives).toEqual([{ name: 'escape', value: '\\', line: 1 }]);
  });
});
