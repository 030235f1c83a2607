import { describe, expect, test } from '@jest/globals';
import { ProgressStream, startVertex, createRenderer } from '../../src/progress/index.js';
import { Recorder } from './script.js';

describe('pseudo-vertices (exporting to image, …)', () => {
  test('start, status rows and done render like any step', () => {
    let t = 0;
    const now = () => (t += 100);
    const stream = new ProgressStream();
    const out = new Recorder();
    const r = createRenderer('plain', { out, now });
    stream.subscribe((ev) => r.write(ev));
    const v = startVertex(stream, { name: 'exporting to image', now });
    v.progress.status({ id: 'exporting layers', current: 0, started: 100, completed: 150 });
    // "café\n" split inside the two bytes of "é".
    v.progress.log(2, Uint8Array.from([0x63, 0x61, 0x66, 0xc3]));
    v.progress.log(2, Uint8Array.from([0xa9, 0x0a]));
    v.done();
    v.fail(new Error('ignored: already ended'));
    stream.close();
    r.close();
    expect(out.text).toBe(
      [
        '#1 exporting to image',
        '#1 exporting layers 0.1s done',
        '#1 0.200 café',
        '#1 DONE 0.4s',
        'steps: 0 total, 0 cached, 0 executed in 0.5s',
        '',
      ].join('\n'),
    );
    expect(stream.history().filter((e) => e.type === 'vertex').map((e) => (e.type === 'vertex' ? e.state : ''))).toEqual(['started', 'completed']);
  });
});
