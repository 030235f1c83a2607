/**
 * compactArray: the exact-length copies that AST nodes, typed instructions and op inputs keep for a
 * whole conversion (literal-built for short lengths so V8 can pretenure them; see the source).
 */
import { describe, expect, test } from '@jest/globals';
import { EMPTY, compactArray } from '../../src/util/compact-array.js';

describe('compactArray', () => {
  test('every length, literal-built or sliced, is an exact copy', () => {
    for (let n = 0; n <= 9; n++) {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) xs.push(i * 10);
      const out = compactArray(xs);
      expect(out).toEqual(xs);
      expect(out).toHaveLength(n);
      if (n > 0) expect(out).not.toBe(xs);
      xs.push(99); // the caller's array may change afterwards: the copy does not
      expect(out).toHaveLength(n);
    }
  });

  test('empty input is the shared frozen empty array', () => {
    expect(compactArray([])).toBe(EMPTY);
    expect(Object.isFrozen(EMPTY)).toBe(true);
  });

  test('holes and undefined elements are kept as undefined, as slice() keeps them', () => {
    expect(compactArray([undefined, 1])).toEqual([undefined, 1]);
    expect(compactArray(['a', undefined, 'c'])).toEqual(['a', undefined, 'c']);
  });
});
