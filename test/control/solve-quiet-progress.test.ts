/**
 * QuietProgress (src/control/solve-quiet-progress.ts): what a quiet Solve holds back. Only progress
 * is held, and only for a quiet client; release() gives it back in order and stops holding; drop()
 * forgets it and keeps holding; past the byte limit everything held comes out and later events pass.
 */
import { describe, expect, test } from '@jest/globals';
import { QuietProgress } from '../../src/control/solve-quiet-progress.js';

interface Msg {
  readonly n: number;
  readonly progress?: { readonly log?: { readonly data: Uint8Array } };
}

const log = (n: number, bytes = 10): Msg => ({ n, progress: { log: { data: new Uint8Array(bytes) } } });

describe('QuietProgress', () => {
  test('holds only a quiet client\'s progress; release gives it in order and stops holding; drop keeps holding', () => {
    const loud = new QuietProgress<Msg>(false);
    expect(loud.hold(log(1))).toBe(false);
    const q = new QuietProgress<Msg>(true);
    expect(q.hold({ n: 0 })).toBe(false);
    expect([q.hold(log(1)), q.hold(log(2)), q.overflowed]).toEqual([true, true, false]);
    q.drop();
    expect(q.hold(log(3))).toBe(true);
    expect(q.release().map((m) => m.n)).toEqual([3]);
    expect(q.hold(log(4))).toBe(false);
    expect(q.release()).toEqual([]);
  });

  test('past the limit, everything held comes out in order and later events pass', () => {
    const q = new QuietProgress<Msg>(true, 1000);
    for (let i = 1; i <= 3; i++) expect(q.hold(log(i, 200))).toBe(true);
    expect(q.overflowed).toBe(false);
    expect(q.hold(log(4, 600))).toBe(true);
    expect(q.overflowed).toBe(true);
    expect(q.release().map((m) => m.n)).toEqual([1, 2, 3, 4]);
    expect(q.overflowed).toBe(false);
    expect(q.hold(log(5, 10))).toBe(false);
  });
});
