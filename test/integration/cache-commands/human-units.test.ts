/**
 * The CLI's size and duration formats: docker's HumanSize / HumanDuration output and the flag
 * values prune reads (docker's binary RAMInBytes sizes, Go durations plus days).
 */
import { describe, expect, test } from '@jest/globals';
import { humanDuration, humanSize, parseDuration, parseSize, since } from '../../../cmd/commands/human-units.js';
import { ellipsis, renderTable } from '../../../cmd/commands/table.js';
import { UsageError } from '../../../src/util/errors.js';

describe('humanSize (docker HumanSize: decimal, 3 significant digits)', () => {
  test.each([
    [0, '0B'], [6, '6B'], [999, '999B'], [1000, '1kB'], [2048, '2.05kB'], [12_345, '12.3kB'],
    [1_056_447, '1.06MB'], [1_984_330, '1.98MB'], [123_456_789, '123MB'], [999_999, '1MB'], [5e9, '5GB'],
  ])('%d → %s', (n, s) => {
    expect(humanSize(n)).toBe(s);
  });
});

describe('humanDuration (docker HumanDuration)', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  test.each([
    [500, 'Less than a second'], [s, '1 second'], [42 * s, '42 seconds'], [m, 'About a minute'], [59 * m, '59 minutes'],
    [h, 'About an hour'], [47 * h, '47 hours'], [3 * 24 * h, '3 days'], [20 * 24 * h, '2 weeks'], [90 * 24 * h, '3 months'], [800 * 24 * h, '2 years'],
  ])('%d ms → %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  test('since', () => {
    expect(since('2024-01-01T00:00:00Z', Date.parse('2024-01-01T00:05:00Z'))).toBe('5 minutes ago');
    expect(since(undefined)).toBe('N/A');
    expect(since('not a date')).toBe('N/A');
  });
});

describe('parseSize (binary units, as docker reads --keep-storage)', () => {
  test.each([
    ['0', 0], ['1024', 1024], ['1k', 1024], ['1KB', 1024], ['1KiB', 1024], ['500MiB', 500 * 1024 ** 2], ['2GB', 2 * 1024 ** 3],
    ['2gb', 2 * 1024 ** 3], ['1.5g', 1.5 * 1024 ** 3], ['3 MB', 3 * 1024 ** 2], ['1T', 1024 ** 4], ['7b', 7],
  ])('%s → %d', (v, n) => {
    expect(parseSize(v, 'keep-storage')).toBe(n);
  });

  test.each(['', 'lots', '-1GB', '1.2.3GB', '1XB', 'GB', '1e9'])('"%s" is refused with one clear line', (v) => {
    expect(() => parseSize(v, 'keep-storage')).toThrow(UsageError);
    expect(() => parseSize(v, 'keep-storage')).toThrow(`invalid value "${v}" for --keep-storage: expected a size such as 512MB, 2GB or 500MiB`);
  });
});

describe('parseDuration (Go syntax plus days)', () => {
  test.each([
    ['0', 0], ['30m', 30 * 60_000], ['24h', 86_400_000], ['1h30m', 90 * 60_000], ['90s', 90_000], ['1.5h', 5_400_000],
    ['500ms', 500], ['7d', 7 * 86_400_000], ['2h45m30s', (2 * 3600 + 45 * 60 + 30) * 1000],
  ])('%s → %d ms', (v, ms) => {
    expect(parseDuration(v, 'keep-duration')).toBe(ms);
  });

  test.each(['', '30', '5 minutes', 'h', '1y', '-1h', '1h 30m', 'soon'])('"%s" is refused', (v) => {
    expect(() => parseDuration(v, 'keep-duration')).toThrow(`invalid value "${v}" for --keep-duration: expected a duration such as 30m, 24h or 7d`);
  });
});

describe('tables', () => {
  test('columns padded like docker (min 10, padding 3), last column unpadded', () => {
    expect(renderTable(['A', 'LONGER HEADER', 'LAST'], [['x', 'y', 'z'], ['a-much-longer-cell', 'b', '']])).toBe(
      `${'A'.padEnd(21)}LONGER HEADER   LAST\n`
      + `${'x'.padEnd(21)}y               z\n`
      + 'a-much-longer-cell   b\n',
    );
  });

  test('ellipsis', () => {
    expect(ellipsis('abcdef', 6)).toBe('abcdef');
    expect(ellipsis('abcdefg', 6)).toBe('abcde…');
  });
});
