/**
 * extractTar stopped half-way (its signal aborts while the tar still arrives, as when a build fails
 * before its context is in): it rejects, and leaves no unhandled rejection behind (in the daemon,
 * one ends the process).
 */
import { expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tarStream from 'tar-stream';
import { extractTar } from '../../src/util/tar-extract.js';

test('an aborted extraction rejects without an unhandled rejection', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tar-abort-'));
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => void unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const pack = tarStream.pack();
    pack.entry({ name: 'a.txt' }, 'a\n');
    const first = await new Promise<Buffer>((resolve) => pack.once('data', (b: unknown) => resolve(b as Buffer)));
    const ac = new AbortController();
    // One entry, then nothing more: the tar never ends until the abort.
    const source = (async function* () {
      yield first;
      await new Promise(() => undefined);
    })();
    const extracting = extractTar(source, join(dir, 'out'), ac.signal);
    setTimeout(() => ac.abort(new Error('stop')), 50);
    await expect(extracting).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    // Only this extraction's: other suites in the same worker may leave their own late ones.
    expect(unhandled.filter((e) => e instanceof Error && e.name === 'AbortError')).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await rm(dir, { recursive: true, force: true });
  }
});
