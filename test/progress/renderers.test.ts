import { describe, expect, test } from '@jest/globals';
import { createRenderer, parseProgressMode } from '../../src/progress/renderers.js';
import { PlainRenderer } from '../../src/progress/plain.js';
import { TtyRenderer } from '../../src/progress/tty.js';
import { formatBytes, formatLogTime, formatSeconds } from '../../src/progress/format.js';
import { UserInputError } from '../../src/util/errors.js';
import { Recorder, script } from './script.js';

function failingBuild() {
  const s = script();
  return [
    s.cached('a', '[1/2] FROM busybox', 0),
    s.start('b', '[2/2] RUN false', 10),
    s.log('b', 'nope\n', 20),
    s.error('b', 'exit code: 1', 30),
  ];
}

describe('rawjson renderer', () => {
  test('one JSON object per event per line, then a summary object', () => {
    const out = new Recorder();
    const r = createRenderer('rawjson', { out, now: () => 1030 });
    const events = failingBuild();
    for (const ev of events) r.write(ev);
    r.close();
    const lines = out.text.trimEnd().split('\n');
    expect(lines).toHaveLength(events.length + 1);
    expect(lines.slice(0, -1).map((l) => JSON.parse(l) as unknown)).toEqual(events);
    expect(JSON.parse(lines.at(-1) as string)).toEqual({
      type: 'summary',
      total: 2,
      cached: 1,
      executed: 0,
      failed: 1,
      canceled: 0,
      durationMs: 1030,
      timestamp: 1030,
    });
  });
});

describe('quiet renderer', () => {
  test('prints nothing but the failed step excerpt', () => {
    const out = new Recorder();
    const r = createRenderer('quiet', { out });
    for (const ev of failingBuild()) r.write(ev);
    expect(out.text).toBe('');
    r.close();
    expect(out.text).toBe('------\n > [2/2] RUN false:\n0.010 nope\n------\n');
  });

  test('prints nothing at all for a good build', () => {
    const out = new Recorder();
    const r = createRenderer('quiet', { out });
    r.write(script().cached('a', 'a', 0));
    r.close();
    expect(out.text).toBe('');
  });
});

describe('choosing a renderer', () => {
  test('auto is tty on a terminal and plain elsewhere', () => {
    const tty = createRenderer('auto', { out: new Recorder({ isTTY: true }), frameMs: 0 });
    expect(tty).toBeInstanceOf(TtyRenderer);
    tty.close();
    expect(createRenderer('auto', { out: new Recorder() })).toBeInstanceOf(PlainRenderer);
  });

  test('NO_COLOR turns tty colors off', () => {
    const out = new Recorder({ isTTY: true });
    const r = createRenderer('tty', { out, frameMs: 0, env: { NO_COLOR: '1' } });
    r.write(script().cached('a', 'a', Date.now()));
    r.close();
    expect(out.text).not.toMatch(/\x1b\[3\dm/);
  });

  test('parseProgressMode accepts the modes and rejects others with a hint', () => {
    expect(parseProgressMode('plain')).toBe('plain');
    let err: unknown;
    try {
      parseProgressMode('plian');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserInputError);
    expect((err as UserInputError).code).toBe('INVALID_PROGRESS_MODE');
    expect((err as UserInputError).message).toBe(
      'invalid progress mode "plian": expected one of auto, plain, tty, rawjson, quiet (did you mean plain?)',
    );
  });
});

describe('formats', () => {
  test('bytes like go-units %.2f', () => {
    expect(formatBytes(0)).toBe('0B');
    expect(formatBytes(999)).toBe('999B');
    expect(formatBytes(1000)).toBe('1.00kB');
    expect(formatBytes(31_500)).toBe('31.50kB');
    expect(formatBytes(1_234_567)).toBe('1.23MB');
    expect(formatBytes(5_000_000_000)).toBe('5.00GB');
  });

  test('log times and durations', () => {
    expect(formatLogTime(7)).toBe('0.007');
    expect(formatLogTime(12_345)).toBe('12.35');
    expect(formatLogTime(123_456)).toBe('123.5');
    expect(formatLogTime(-5)).toBe('0.000');
    expect(formatSeconds(449)).toBe('0.4s');
    expect(formatSeconds(2_050)).toBe('2.0s');
  });
});
