import { describe, expect, test } from '@jest/globals';
import { PlainRenderer } from '../../src/progress/plain.js';
import type { ProgressEvent } from '../../src/progress/types.js';
import { Recorder, script } from './script.js';
import { waitFor } from '../helpers/wait-for.js';

describe('plain renderer (BuildKit --progress=plain)', () => {
  test('numbers steps in first-seen order; logs, statuses, CACHED, DONE, ERROR, the error excerpt and the summary', () => {
    const out = new Recorder();
    const r = new PlainRenderer({ out, now: () => 2100 });
    const s = script();
    const events: ProgressEvent[] = [
      s.start('def', '[internal] load build definition from Dockerfile', 1000),
      s.status('def', 'transferring dockerfile:', 1010, { current: 31, started: 1000, completed: 1010 }),
      s.done('def', 1020),
      s.cached('from', '[1/3] FROM docker.io/library/alpine', 1030),
      s.start('run1', '[2/3] RUN echo hello', 1040),
      s.log('run1', 'hello\n', 1340),
      s.log('run1', 'wor', 1400),
      s.log('run1', 'ld\n', 1450),
      s.done('run1', 1500),
      s.start('run2', '[3/3] RUN false', 1510),
      s.log('run2', 'oops\n', 1520, 2),
      s.error('run2', 'process "/bin/sh -c false" did not complete successfully: exit code: 1', 1600),
    ];
    for (const ev of events) r.write(ev);
    r.close();
    expect(out.text).toBe(
      [
        '#1 [internal] load build definition from Dockerfile',
        '#1 transferring dockerfile: 31B done',
        '#1 DONE 0.0s',
        '',
        '#2 [1/3] FROM docker.io/library/alpine',
        '#2 CACHED',
        '',
        '#3 [2/3] RUN echo hello',
        '#3 0.300 hello',
        '#3 0.360 world',
        '#3 DONE 0.5s',
        '',
        '#4 [3/3] RUN false',
        '#4 0.010 oops',
        '#4 ERROR: process "/bin/sh -c false" did not complete successfully: exit code: 1',
        '------',
        ' > [3/3] RUN false:',
        '0.010 oops',
        '------',
        'steps: 3 total, 1 cached, 1 executed, 1 failed in 1.1s',
        '',
      ].join('\n'),
    );
  });

  test('output of a parallel step waits until the shown step ends, or interrupts it after 5s', () => {
    const out = new Recorder();
    const r = new PlainRenderer({ out, now: () => 30000, summary: false });
    const s = script();
    for (const ev of [
      s.start('a', 'step A', 10000),
      s.start('b', 'step B', 10010),
      s.log('b', 'b1\n', 10020),
      s.log('a', 'a1\n', 10030),
      s.done('a', 10100),
      s.done('b', 10200),
      s.start('c', 'step C', 20000),
      s.start('d', 'step D', 20001),
      s.log('d', 'd1\n', 20002),
      s.log('c', 'c1\n', 26000),
      s.done('c', 27000),
      s.done('d', 28000),
    ]) {
      r.write(ev);
    }
    r.close();
    expect(out.text).toBe(
      [
        '#1 step A',
        '#1 0.030 a1',
        '#1 DONE 0.1s',
        '',
        '#2 step B',
        '#2 0.010 b1',
        '#2 DONE 0.2s',
        '',
        '#3 step C',
        '#3 6.000 c1',
        '#3 ...',
        '',
        '#4 step D',
        '#4 0.001 d1',
        '#4 ...',
        '',
        '#3 step C',
        '#3 DONE 7.0s',
        '',
        '#4 step D',
        '#4 DONE 8.0s',
        '',
      ].join('\n'),
    );
  });

  test('the error excerpt keeps the last 10 lines; timestamps widen with the seconds', () => {
    const out = new Recorder();
    const r = new PlainRenderer({ out, now: () => 200000, summary: false });
    const s = script();
    r.write(s.start('x', '[stage-1 2/2] RUN make', 0));
    for (let i = 1; i <= 12; i++) r.write(s.log('x', `line ${i}\n`, i === 12 ? 150000 : i === 11 ? 15000 : i * 10));
    r.write(s.error('x', 'exit code: 2', 151000));
    r.close();
    const box = out.text.slice(out.text.indexOf('------'));
    expect(box).toBe(
      [
        '------',
        ' > [stage-1 2/2] RUN make:',
        '0.030 line 3',
        '0.040 line 4',
        '0.050 line 5',
        '0.060 line 6',
        '0.070 line 7',
        '0.080 line 8',
        '0.090 line 9',
        '0.100 line 10',
        '15.00 line 11',
        '150.0 line 12',
        '------',
        '',
      ].join('\n'),
    );
  });

  test('status rows: byte counts, a progress row is reprinted only after 10% and 1s or after 5s, done once, and warnings', () => {
    const out = new Recorder();
    const r = new PlainRenderer({ out, now: () => 9000, summary: false });
    const s = script();
    r.write(s.start('ctx', '[internal] load build context', 0));
    r.write(s.status('ctx', 'transferring context:', 100, { current: 1_234_567, total: 10_000_000, started: 0 }));
    r.write(s.status('ctx', 'transferring context:', 200, { current: 1_300_000, total: 10_000_000, started: 0 }));
    // 7% later: not shown; 60% within a second: not shown either (a fast transfer is two lines).
    r.write(s.status('ctx', 'transferring context:', 300, { current: 2_000_000, total: 10_000_000, started: 0 }));
    r.write(s.status('ctx', 'transferring context:', 900, { current: 7_000_000, total: 10_000_000, started: 0 }));
    r.write(s.status('ctx', 'transferring context:', 1200, { current: 8_000_000, total: 10_000_000, started: 0 }));
    r.write(s.status('ctx', 'transferring context:', 2600, { current: 10_000_000, total: 10_000_000, started: 0, completed: 2600 }));
    r.write(s.status('ctx', 'transferring context:', 2650, { current: 10_000_000, total: 10_000_000, started: 0, completed: 2650 }));
    r.write(s.warn('ctx', 'FromAsCasing: "as" and "FROM" keywords\' casing do not match', 2700));
    r.write(s.done('ctx', 2700));
    r.close();
    expect(out.text).toBe(
      [
        '#1 [internal] load build context',
        '#1 transferring context: 1.23MB / 10.00MB 0.1s',
        '#1 transferring context: 8.00MB / 10.00MB 1.2s',
        '#1 transferring context: 10.00MB / 10.00MB 2.6s done',
        '#1 WARN: FromAsCasing: "as" and "FROM" keywords\' casing do not match',
        '#1 DONE 2.7s',
        '1 warning found:',
        ' - FromAsCasing: "as" and "FROM" keywords\' casing do not match',
        '',
      ].join('\n'),
    );
  });

  test('a cancelled step prints CANCELED and no excerpt; a restarted step gets a new block', () => {
    const out = new Recorder();
    const r = new PlainRenderer({ out, now: () => 5000 });
    const s = script();
    r.write(s.cached('x', 'x', 0));
    r.write(s.start('x', 'x', 100));
    r.write(s.done('x', 300));
    r.write(s.start('y', 'y', 400));
    r.write(s.canceled('y', 900));
    r.close();
    expect(out.text).toBe(
      ['#1 x', '#1 CACHED', '', '#1 x', '#1 DONE 0.2s', '', '#2 y', '#2 CANCELED', 'steps: 2 total, 0 cached, 1 executed, 1 canceled in 5.0s', ''].join('\n'),
    );
  });

  test('partial lines are completed by the next chunk, or ended when the step ends', () => {
    const out = new Recorder();
    const r = new PlainRenderer({ out, now: () => 0, summary: false });
    const s = script();
    r.write(s.start('x', 'x', 0));
    r.write(s.log('x', 'a\r\nb', 10));
    r.write(s.log('x', 'c', 20));
    r.write(s.done('x', 30));
    r.close();
    expect(out.text).toBe(['#1 x', '#1 0.010 a', '#1 0.010 bc', '#1 DONE 0.0s', ''].join('\n'));
  });

  test('writes after close are ignored and close is idempotent', () => {
    const out = new Recorder();
    const r = new PlainRenderer({ out, now: () => 0 });
    r.close();
    r.close();
    r.write(script().start('x', 'x', 0));
    expect(out.text).toBe('steps: 0 total, 0 cached, 0 executed in 0.0s\n');
  });
});

describe('the first cache miss line', () => {
  const render = (events: readonly ProgressEvent[]): string => {
    const out = new Recorder();
    const r = new PlainRenderer({ out, now: () => 5000 });
    for (const ev of events) r.write(ev);
    r.close();
    return out.text;
  };
  const miss = (ev: ReturnType<ReturnType<typeof script>['start']>, why: string): ProgressEvent => ({ ...ev, cacheMiss: why });

  test('a partly cached build names the earliest step that ran, with its reason, under the summary', () => {
    const s = script();
    const text = render([
      s.cached('from', '[1/3] FROM busybox', 1000),
      s.start('ctx', '[internal] load build context', 1001),
      s.done('ctx', 1002),
      miss(s.start('b', '[3/3] RUN b', 1300), 'input [2/3] COPY a changed'),
      miss(s.start('a', '[2/3] COPY a', 1100), 'no cache record'),
      s.done('a', 1200),
      s.done('b', 1400),
    ]);
    expect(text.split('\n').slice(-3)).toEqual(['steps: 3 total, 1 cached, 2 executed in 4.0s', 'first cache miss: [2/3] COPY a: no cache record', '']);
  });

  test('an executed step says why under its header; internal steps do not', () => {
    const s = script();
    const text = render([
      miss(s.start('ctx', '[internal] load build context', 1000), 'no cache record'),
      s.done('ctx', 1001),
      miss(s.start('a', '[2/3] COPY a', 1100), 'a changed'),
      s.done('a', 1200),
    ]);
    expect(text).toContain('#2 [2/3] COPY a\n#2 CACHE MISS: a changed\n#2 DONE 0.1s\n');
    expect(text).not.toContain('CACHE MISS: no cache record');
  });

  test('no line when nothing missed, or when nothing came from the cache (a first build)', () => {
    const s = script();
    expect(render([s.cached('from', '[1/2] FROM busybox', 1000), s.cached('a', '[2/2] COPY a', 1000)])).not.toContain('first cache miss');
    const t = script();
    expect(render([miss(t.start('from', '[1/2] FROM busybox', 1000), 'no cache record'), t.done('from', 1100)])).not.toContain('first cache miss');
  });
});

describe('plain renderer timer', () => {
  test('held-back output comes through after 5s even when no event arrives', async () => {
    let now = 0;
    const out = new Recorder();
    const r = new PlainRenderer({ out, now: () => now, tickMs: 5, summary: false });
    const s = script();
    r.write(s.start('a', 'a', 0));
    r.write(s.start('b', 'b', 0));
    r.write(s.log('b', 'waiting\n', 0));
    expect(out.text).toBe('#1 a\n');
    now = 6000;
    await waitFor(() => out.text.includes('waiting'), { what: 'the tick to print the held log line', timeoutMs: 2000 });
    expect(out.text).toBe('#1 a\n#1 ...\n\n#2 b\n#2 0.000 waiting\n');
    r.close();
  });
});
