import { describe, expect, test } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { allOrFirstError } from '../../src/util/parallel.js';
import { CancelledError } from '../../src/util/errors.js';

describe('allOrFirstError', () => {
  test('runs every item, never more than `concurrency` at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await allOrFirstError([1, 2, 3, 4, 5, 6, 7], { concurrency: 3 }, async (n) => {
      running++;
      most = Math.max(most, running);
      await sleep(5);
      running--;
      done.push(n);
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  test('the first failure aborts the others; the error is thrown only after all have settled', async () => {
    const settled: string[] = [];
    const boom = new Error('boom');
    const run = allOrFirstError(['slow', 'fails', 'waits'], { concurrency: 3 }, async (name, _i, signal) => {
      if (name === 'fails') {
        await sleep(5);
        settled.push(name);
        throw boom;
      }
      // The others stop when their signal is aborted, and then fail too (as a cancellation).
      await new Promise<void>((_, reject) => signal.addEventListener('abort', () => setTimeout(() => {
        settled.push(name);
        reject(new CancelledError(signal.reason));
      }, 20)));
    });
    await expect(run).rejects.toBe(boom);
    expect(settled.sort()).toEqual(['fails', 'slow', 'waits']);
  });

  test("the caller's cancellation wins over the tasks' errors; queued tasks never start", async () => {
    const ac = new AbortController();
    const started: number[] = [];
    const run = allOrFirstError([0, 1, 2, 3], { concurrency: 1, signal: ac.signal }, async (n, _i, signal) => {
      started.push(n);
      ac.abort(new Error('user pressed Ctrl-C'));
      if (signal.aborted) throw new Error('task saw the abort');
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(started).toEqual([0]);
  });
});
