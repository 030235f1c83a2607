import { describe, expect, test } from '@jest/globals';
import { ProgressStream, teeWriter } from '../../src/progress/stream.js';
import type { ProgressEvent } from '../../src/progress/types.js';
import { script } from './script.js';

async function collect(it: AsyncIterable<ProgressEvent>): Promise<ProgressEvent[]> {
  const out: ProgressEvent[] = [];
  for await (const ev of it) out.push(ev);
  return out;
}

describe('progress stream', () => {
  test('a reader gets the events written before and after it started, and ends on close', async () => {
    const s = script();
    const stream = new ProgressStream();
    const e1 = s.start('a', 'a', 1);
    const e2 = s.log('a', 'x\n', 2);
    const e3 = s.done('a', 3);
    stream.write(e1);
    const reader = stream.reader();
    stream.write(e2);
    expect((await reader.next()).value).toEqual(e1);
    expect((await reader.next()).value).toEqual(e2);
    // The reader has caught up and waits: the next event must wake it.
    const third = reader.next();
    stream.write(e3);
    expect((await third).value).toEqual(e3);
    stream.close();
    expect(await reader.next()).toEqual({ done: true, value: undefined });
    // A reader that starts after close replays everything and ends at once.
    expect(await collect(stream.reader())).toEqual([e1, e2, e3]);
    expect(await collect(stream.reader({ replay: false }))).toEqual([]);
  });

  test('listeners are called synchronously; a throwing listener does not stop the others', () => {
    const stream = new ProgressStream({ keepHistory: false });
    const seen: string[] = [];
    stream.subscribe(() => {
      throw new Error('broken renderer');
    });
    const off = stream.subscribe((ev) => seen.push(ev.type));
    stream.write(script().start('a', 'a', 0));
    off();
    stream.write(script().start('b', 'b', 0));
    expect(seen).toEqual(['vertex']);
    expect(stream.history()).toEqual([]);
  });

  test('an aborted reader ends without waiting for close', async () => {
    const stream = new ProgressStream();
    const ac = new AbortController();
    const reader = collect(stream.reader({ signal: ac.signal, replay: false }));
    ac.abort();
    expect(await reader).toEqual([]);
    expect(stream.closed).toBe(false);
  });

  test('breaking out of for-await unsubscribes the reader', async () => {
    const stream = new ProgressStream();
    const s = script();
    stream.write(s.start('a', 'a', 0));
    stream.write(s.done('a', 1));
    for await (const ev of stream.reader()) {
      expect(ev.type).toBe('vertex');
      break;
    }
    stream.close();
  });

  test('teeWriter sends each event to every writer', () => {
    const a: ProgressEvent[] = [];
    const b: ProgressEvent[] = [];
    const w = teeWriter({ write: (e) => void a.push(e) }, { write: (e) => void b.push(e) });
    const ev = script().cached('x', 'x', 0);
    w.write(ev);
    expect(a).toEqual([ev]);
    expect(b).toEqual([ev]);
  });
});
