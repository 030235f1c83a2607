import { describe, expect, test } from '@jest/globals';
import { TtyRenderer } from '../../src/progress/tty.js';
import { Recorder, screen, script } from './script.js';
import { waitFor } from '../helpers/wait-for.js';

const stripAnsi = (s: string): string => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

describe('tty renderer', () => {
  test('redraws one frame in place and leaves the final frame, excerpt and summary on screen', () => {
    let now = 1000;
    const out = new Recorder({ isTTY: true, columns: 80, rows: 30 });
    const r = new TtyRenderer({ out, now: () => now, frameMs: 0 });
    const s = script();
    r.write(s.start('def', '[internal] load build definition from Dockerfile', 1000));
    r.write(s.done('def', 1030));
    r.write(s.cached('from', '[1/3] FROM docker.io/library/alpine', 1040));
    r.write(s.start('ctx', '[internal] load build context', 1050));
    r.write(s.status('ctx', 'transferring context:', 1100, { current: 5_000_000, total: 10_000_000, started: 1050 }));
    r.write(s.start('run', '[2/3] RUN make', 1200));
    r.write(s.log('run', 'compiling main.c\nlinking\n', 1300));
    now = 1500;
    r.render();

    // A live frame: the running step shows its last output lines, the transfer a half-full bar.
    const live = screen(out.text);
    expect(live[0]).toBe('[+] Building 0.5s (2/4)');
    expect(live).toContain(' => => # compiling main.c');
    expect(live).toContain(' => => # linking');
    const bar = live.find((l) => l.startsWith(' => => transferring context:'));
    expect(bar).toMatch(/^ => => transferring context: 5\.00MB \/ 10\.00MB \[=========> {10}\] +0\.5s$/);

    r.write(s.status('ctx', 'transferring context:', 1600, { current: 10_000_000, total: 10_000_000, started: 1050, completed: 1600 }));
    r.write(s.done('ctx', 1600));
    r.write(s.error('run', 'exit code: 2', 3100));
    now = 3100;
    r.close();

    const final = screen(out.text);
    expect(final).toEqual([
      '[+] Building 2.1s (4/4) FINISHED',
      ' => [internal] load build definition from Dockerfile                       0.0s',
      ' => CACHED [1/3] FROM docker.io/library/alpine                             0.0s',
      ' => [internal] load build context                                          0.6s',
      // A finished transfer shows no bar (as BuildKit), so nothing is cut to `[=====`.
      ' => => transferring context: 10.00MB / 10.00MB                             0.6s',
      ' => ERROR [2/3] RUN make                                                   1.9s',
      '------',
      ' > [2/3] RUN make:',
      '0.100 compiling main.c',
      '0.100 linking',
      '------',
      'steps: 2 total, 1 cached, 0 executed, 1 failed in 2.1s',
    ]);
    // Every row is the terminal width (minus one), so a redraw overwrites it fully.
    for (const l of final.slice(1, 6)) expect(l.length).toBe(79);
    // Finished rows are colored (blue), the failed one red.
    expect(out.text).toContain('\x1b[31m => ERROR [2/3] RUN make');
    expect(out.text).toContain('\x1b[34m => CACHED [1/3] FROM');
  });

  test('an executed step shows why it missed the cache on the row under it', () => {
    const out = new Recorder({ isTTY: true, columns: 80, rows: 30 });
    const r = new TtyRenderer({ out, now: () => 2000, frameMs: 0 });
    const s = script();
    r.write({ ...s.start('ctx', '[internal] load build context', 1000), cacheMiss: 'no cache record' });
    r.write(s.done('ctx', 1001));
    r.write({ ...s.start('copy', '[2/3] COPY package.json ./', 1100), cacheMiss: 'package.json changed' });
    r.write(s.done('copy', 1200));
    r.close();
    const final = screen(out.text);
    const at = final.findIndex((l) => l.startsWith(' => [2/3] COPY package.json ./'));
    expect(final[at + 1]).toBe(' => => CACHE MISS: package.json changed');
    expect(final.join('\n')).not.toContain('no cache record');
  });

  test('a shorter frame clears what the taller one left', () => {
    const now = 0;
    const out = new Recorder({ isTTY: true, columns: 60, rows: 30 });
    const r = new TtyRenderer({ out, now: () => now, frameMs: 0, color: false, summary: false });
    const s = script();
    r.write(s.start('a', 'a', 0));
    r.write(s.log('a', '1\n2\n3\n', 0));
    r.render();
    expect(screen(out.text)).toHaveLength(5);
    r.write(s.done('a', 0));
    r.close();
    expect(screen(out.text)).toEqual(['[+] Building 0.0s (1/1) FINISHED', ` => a${' '.repeat(50)}0.0s`]);
    expect(out.text).not.toContain('\x1b[34m');
  });

  test('live frames fit the terminal height, dropping finished rows first', () => {
    const out = new Recorder({ isTTY: true, columns: 60, rows: 6 });
    const r = new TtyRenderer({ out, now: () => 0, frameMs: 0, color: false, summary: false });
    const s = script();
    for (let i = 0; i < 8; i++) r.write(s.cached(`c${i}`, `cached ${i}`, 0));
    r.write(s.start('run', 'running', 0));
    r.render();
    const live = screen(out.text);
    expect(live.length).toBe(5);
    expect(live[live.length - 1]).toMatch(/^ => running/);
    r.write(s.done('run', 0));
    r.close();
    // The final frame shows everything.
    expect(screen(out.text).length).toBe(10);
  });

  test('redraws about every frameMs on its own timer, and stops when closed', async () => {
    const out = new Recorder({ isTTY: true });
    const r = new TtyRenderer({ out, frameMs: 20, summary: false });
    const s = script();
    r.write(s.start('a', 'a', Date.now()));
    const frames = (): number => stripAnsi(out.text).split('[+] Building').length - 1;
    // No event arrives after the first: only the timer can draw these frames.
    await waitFor(() => frames() >= 3, { what: 'three frames drawn by the timer', timeoutMs: 3000 });
    r.close();
    const n = out.chunks.length;
    // Proving that nothing happens takes a window: three frame periods with no new chunk.
    await new Promise((res) => setTimeout(res, 60));
    expect(out.chunks.length).toBe(n);
  });
});
