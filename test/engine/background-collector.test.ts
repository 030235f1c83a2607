/**
 * The daemon's after-build garbage collection (src/engine/background-collector.ts): one run at a
 * time; requests made while one runs are served together by the single next run (which starts
 * after they asked) and applies the GC policy when any of them (a build) asked for it; a failing
 * collection settles its requests anyway; idle() waits for what is in flight. The collection here
 * is a function whose runs the test finishes by hand.
 */
import { expect, test } from '@jest/globals';
import { BackgroundCollector, type CollectSteps } from '../../src/engine/background-collector.js';

/** Steps whose collections the test finishes by hand; the log says which step ran, in order. */
function controlledRuns(): {
  steps: CollectSteps;
  finish: (i: number, fail?: boolean) => void;
  started: () => number;
  log: string[];
} {
  const runs: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const log: string[] = [];
  return {
    steps: {
      policy: async () => {
        log.push(`policy ${runs.length}`);
      },
      collect: () => new Promise<void>((resolve, reject) => {
        log.push(`collect ${runs.length}`);
        runs.push({ resolve, reject });
      }),
    },
    finish: (i, fail = false) => (fail ? runs[i]?.reject(new Error('collection failed')) : runs[i]?.resolve()),
    started: () => runs.length,
    log,
  };
}

const settled = async (p: Promise<void>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
};

test('requests during a run share one next run, which starts after the first ends', async () => {
  const c = controlledRuns();
  const bc = new BackgroundCollector(c.steps);
  const first = bc.request();
  expect(c.started()).toBe(1);
  const second = bc.request();
  const third = bc.request();
  expect(c.started()).toBe(1);
  c.finish(0);
  await first;
  expect(await settled(second)).toBe(false);
  expect(c.started()).toBe(2);
  c.finish(1);
  await Promise.all([second, third]);
  expect(c.started()).toBe(2);
});

test('a failed collection settles its requests; idle() waits for the queued run', async () => {
  const c = controlledRuns();
  const bc = new BackgroundCollector(c.steps);
  const first = bc.request();
  const second = bc.request();
  const idle = bc.idle();
  c.finish(0, true);
  await first;
  expect(await settled(idle)).toBe(false);
  c.finish(1);
  await second;
  await idle;
  expect(await settled(bc.idle())).toBe(true);
});

test('the GC policy runs first when a request the run serves asked for it (a build), and only then; beforeCollect comes between', async () => {
  const c = controlledRuns();
  const bc = new BackgroundCollector(c.steps);
  /** Lets the run's policy step (async) go on until its collection has started. */
  const collecting = async (n: number): Promise<void> => {
    for (let i = 0; i < 50 && c.started() < n; i++) await Promise.resolve();
    expect(c.started()).toBe(n);
  };
  const first = bc.request({ policy: true, beforeCollect: () => c.log.push('unprotect build 1') });
  const plain = bc.request();
  const build = bc.request({ policy: true, beforeCollect: () => c.log.push('unprotect build 2') });
  await collecting(1);
  c.finish(0);
  await first;
  await collecting(2);
  c.finish(1);
  await Promise.all([plain, build]);
  const alone = bc.request({ beforeCollect: () => { throw new Error('not the collector’s problem'); } });
  await collecting(3);
  c.finish(2);
  await alone;
  expect(c.log).toEqual([
    'policy 0', 'unprotect build 1', 'collect 0',
    // The queued run serves a plain request and a build.
    'policy 1', 'unprotect build 2', 'collect 1',
    'collect 2',
  ]);
});
