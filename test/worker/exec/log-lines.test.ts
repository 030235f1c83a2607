/** Line splitting of process output. */
import { describe, expect, test } from '@jest/globals';
import { LineSplitter, LogTail } from '../../../src/worker/exec/log-lines.js';
import type { ExecLogLine } from '../../../src/worker/exec/types.js';

function collect(maxLineLength?: number): { s: LineSplitter; lines: ExecLogLine[] } {
  const lines: ExecLogLine[] = [];
  let t = 0;
  const s = new LineSplitter({ stream: 2, emit: (l) => lines.push(l), now: () => ++t, ...(maxLineLength ? { maxLineLength } : {}) });
  return { s, lines };
}

describe('LineSplitter', () => {
  test('joins chunks, splits lines, flushes the partial tail at the end', () => {
    const { s, lines } = collect();
    s.push(Buffer.from('a\nb'));
    s.push(Buffer.from('c\n\nd'));
    expect(lines.map((l) => l.text)).toEqual(['a', 'bc', '']);
    s.end();
    expect(lines.map((l) => [l.stream, l.text, l.partial, l.timestamp])).toEqual([[2, 'a', false, 1], [2, 'bc', false, 2], [2, '', false, 3], [2, 'd', true, 4]]);
  });

  test('keeps a UTF-8 character split across chunks whole', () => {
    const { s, lines } = collect();
    const bytes = Buffer.from('é€\n');
    s.push(bytes.subarray(0, 1));
    s.push(bytes.subarray(1, 3));
    s.push(bytes.subarray(3));
    s.end();
    expect(lines.map((l) => l.text)).toEqual(['é€']);
  });

  test('cuts runaway lines into partial pieces', () => {
    const { s, lines } = collect(4);
    s.push(Buffer.from('0123456789\n'));
    s.end();
    expect(lines.map((l) => [l.text, l.partial])).toEqual([['0123', true], ['4567', true], ['89', false]]);
  });

  test('an empty stream emits nothing', () => {
    const { s, lines } = collect();
    s.end();
    expect(lines).toEqual([]);
  });
});

test('LogTail keeps the last N lines', () => {
  const t = new LogTail(2);
  for (const l of ['a', 'b', 'c']) t.add(l);
  expect(t.snapshot()).toEqual(['b', 'c']);
});
