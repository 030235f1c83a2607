/**
 * The daemon's after-build garbage collection (src/engine/background-collector.ts): one run at a
 * time; requests made while one runs are served together by the single next run (which starts
 * after they asked) and applies the GC policy when any of them (a build) asked for it; a failing
 * collection settles its requests anyway; idle() waits for what is in flight. The collection here
 * is a function whose runs the test finishes by hand.
 */
import { expect, test } from '@jest/globals';
import { BackgroundCollector, type CollectSteps } from '../../src/engine/background-collector.js';
import { waitFor } from '../helpers/wait-for.js';

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

/** A clock the test moves: a run "takes" as long as the test advances it while the run is open. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** A collector (paced with ratio 4, unless `paced` is false) whose first run took `ms` of its clock and has ended. */
async function afterOneRun(ms: number, paced = true): Promise<{ c: ReturnType<typeof controlledRuns>; clock: ReturnType<typeof fakeClock>; bc: BackgroundCollector }> {
  const c = controlledRuns();
  const clock = fakeClock();
  const bc = new BackgroundCollector(c.steps, paced ? { ratio: 4, now: clock.now } : undefined);
  const first = bc.request();
  clock.advance(ms);
  c.finish(0);
  await first;
  return { c, clock, bc };
}

test('paced: the next run waits ratio × the last run\'s duration after it ended; requests in the pause share it', async () => {
  const { c, clock, bc } = await afterOneRun(15);
  // The run took 15 ms: the pause is 60 ms of the clock (wall time too: the pause is a real timer).
  const t0 = performance.now();
  const second = bc.request();
  const third = bc.request();
  expect(await settled(second)).toBe(false);
  expect(c.started()).toBe(1);
  await waitFor(() => c.started() === 2, { what: 'the run after the pause' });
  expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
  c.finish(1);
  await Promise.all([second, third]);
  expect(c.started()).toBe(2);
  // Once the pause has passed (the clock moved on), a request starts a run at once.
  clock.advance(1_000);
  const later = bc.request();
  expect(c.started()).toBe(3);
  c.finish(2);
  await later;
});

test('paced: idle() ends a pause at once and waits for the run it frees', async () => {
  const { c, bc } = await afterOneRun(60_000);
  // A 4-minute pause is under way; idle() must not wait for it.
  const queued = bc.request();
  expect(c.started()).toBe(1);
  const idle = bc.idle();
  await waitFor(() => c.started() === 2, { what: 'the queued run to start without its pause', timeoutMs: 2_000 });
  expect(await settled(idle)).toBe(false);
  c.finish(1);
  await queued;
  await idle;
});

test('unpaced (the default): a request after a run starts the next at once', async () => {
  const { c, bc } = await afterOneRun(60_000, false);
  const next = bc.request();
  expect(c.started()).toBe(2);
  c.finish(1);
  await next;
});
