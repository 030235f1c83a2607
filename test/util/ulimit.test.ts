/** `--ulimit` values (src/util/ulimit.ts): Docker's names, SOFT[:HARD], soft ≤ hard. */
import { expect, test } from '@jest/globals';
import { parseUlimit } from '../../src/util/ulimit.js';

test('NAME=SOFT[:HARD]: the hard limit defaults to the soft one', () => {
  expect(parseUlimit('nofile=1024:2048')).toEqual({ name: 'nofile', soft: 1024, hard: 2048 });
  expect(parseUlimit('nproc=300')).toEqual({ name: 'nproc', soft: 300, hard: 300 });
  expect(parseUlimit('core=0')).toEqual({ name: 'core', soft: 0, hard: 0 });
});

test.each([
  ['nofile', 'expected NAME=SOFT[:HARD]'],
  ['=1', 'expected NAME=SOFT[:HARD]'],
  ['nofile=', 'expected NAME=SOFT[:HARD] with whole numbers'],
  ['nofile=-1', 'expected NAME=SOFT[:HARD] with whole numbers'],
  ['nofile=1:2:3', 'expected NAME=SOFT[:HARD] with whole numbers'],
  ['nofile=1.5', 'expected NAME=SOFT[:HARD] with whole numbers'],
  ['nofile=10:5', 'the soft limit 10 is above the hard limit 5'],
  ['files=10', 'unknown ulimit "files" (core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)'],
  ['nofile=99999999999999999999', '100000000000000000000 is not a non-negative whole number'],
])('%s: %s', (value, why) => {
  expect(parseUlimit(value)).toBe(why);
});
