/**
 * The emulator probe (src/worker/platforms): its test programs really run under the registered
 * qemu handlers; the report is probed once and then served from memory or the data root's file
 * while binfmt_misc is unchanged, and probed again when a handler changes. binfmt_misc is a copy of
 * the real handlers in a temporary directory (the real one is never touched: other tests run at
 * the same time); the programs still run through the kernel's real handlers.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulators } from '../../src/worker/platforms/emulators.js';
import { entryMatches, readBinfmt } from '../../src/worker/platforms/binfmt.js';
import { PROBE_PROGRAMS } from '../../src/worker/platforms/probe-binaries.js';
import { ARM64_BINFMT, arm64Why, haveArm64Emulation } from '../helpers/busybox-arm64.js';
import { describeIf } from '../helpers/skip.js';

const REAL = '/proc/sys/fs/binfmt_misc';

describeIf(haveArm64Emulation, arm64Why, 'emulator probe', () => {
  let dir = '';
  let fake = '';
  const signal = new AbortController().signal;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-emulators-'));
    fake = join(dir, 'binfmt');
    await mkdir(fake);
    for (const n of await readdir(REAL)) {
      if (n === 'register') continue;
      await writeFile(join(fake, n), await readFile(join(REAL, n)));
    }
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the aarch64 program matches the registered handler as the kernel matches it', async () => {
    const state = readBinfmt(REAL);
    const arm64 = PROBE_PROGRAMS.find((p) => p.platforms.includes('linux/arm64'));
    const handler = state.entries.find((e) => arm64 && entryMatches(e, arm64.bytes));
    expect(handler?.name).toBe(ARM64_BINFMT.split('/').pop());
    expect(handler?.flags).toContain('F');
  });

  test('probed once, then served from memory and from the file; probed again when binfmt_misc changes', async () => {
    const cacheFile = join(dir, 'emulators.json');
    const a = new Emulators({ binfmtDir: fake, cacheFile, tmpDir: dir });
    let t = performance.now();
    const first = await a.runnable(signal);
    const probeMs = performance.now() - t;
    expect(first).toContain('linux/arm64');
    expect(a.probes).toBeGreaterThan(0);

    // Same process (a daemon): only binfmt_misc is read.
    const probes = a.probes;
    t = performance.now();
    for (let i = 0; i < 20; i++) await a.report(signal);
    const memoryMs = (performance.now() - t) / 20;
    expect(a.probes).toBe(probes);

    // A new process (the CLI): binfmt_misc and the file are read, nothing runs.
    const b = new Emulators({ binfmtDir: fake, cacheFile, tmpDir: dir });
    t = performance.now();
    expect(await b.runnable(signal)).toEqual(first);
    const fileMs = performance.now() - t;
    expect(b.probes).toBe(0);
    process.stderr.write(`emulator probe: ${probeMs.toFixed(1)} ms to probe, ${memoryMs.toFixed(2)} ms per cached report in memory, ${fileMs.toFixed(2)} ms from the file (${readBinfmt(fake).entries.length} handlers)\n`);

    // The aarch64 handler switched off: the key changes, the probe runs again, arm64 is gone.
    const name = ARM64_BINFMT.split('/').pop() as string;
    const text = await readFile(join(fake, name), 'utf8');
    await writeFile(join(fake, name), text.replace(/^enabled$/m, 'disabled'));
    expect(await b.runnable(signal)).not.toContain('linux/arm64');
    expect(b.probes).toBeGreaterThan(0);
    await expect(b.require([{ os: 'linux', architecture: 'arm64' }], signal)).rejects.toThrow(`the binfmt_misc handler ${name} for aarch64 binaries is disabled`);
    await writeFile(join(fake, name), text);
    await expect(b.require([{ os: 'linux', architecture: 'arm64' }], signal)).resolves.toBeUndefined();
  });
});
