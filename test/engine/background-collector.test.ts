/**
 * The daemon's after-build garbage collection (src/engine/background-collector.ts): one run at a
 * time; requests made while one runs are served together by the single next run (which starts
 * after they asked) and applies the GC policy when any of them (a build) asked for it; a failing
 * collection settles its requests anyway; idle() waits for what is in flight. The collection here
 * is a function whose runs the test finishes by hand.
 */
import { expect, test } from '@jest/globals';
import { BackgroundCollector } from '../../src/engine/background-collector.js';

function controlledRuns(): {
  collect: (req: { policy: boolean }) => Promise<void>;
  finish: (i: number, fail?: boolean) => void;
  started: () => number;
  policies: () => boolean[];
} {
  const runs: { resolve: () => void; reject: (e: Error) => void; policy: boolean }[] = [];
  return {
    collect: ({ policy }) => new Promise<void>((resolve, reject) => runs.push({ resolve, reject, policy })),
    finish: (i, fail = false) => (fail ? runs[i]?.reject(new Error('collection failed')) : runs[i]?.resolve()),
    started: () => runs.length,
    policies: () => runs.map((r) => r.policy),
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
  const bc = new BackgroundCollector(c.collect);
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
  const bc = new BackgroundCollector(c.collect);
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

test('the GC policy is applied by a run when a request it serves asked for it (a build), and only then', async () => {
  const c = controlledRuns();
  const bc = new BackgroundCollector(c.collect);
  const first = bc.request({ policy: true });
  const plain = bc.request();
  const build = bc.request({ policy: true });
  c.finish(0);
  await first;
  c.finish(1);
  await Promise.all([plain, build]);
  const alone = bc.request();
  c.finish(2);
  await alone;
  const queued = bc.request();
  const later = bc.request();
  c.finish(3);
  await queued;
  c.finish(4);
  await later;
  // Runs: the build's; the queued run serving a plain request and a build; a plain one; two plain.
  expect(c.policies()).toEqual([true, true, false, false, false]);
});
