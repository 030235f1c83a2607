/**
 * tsbuildd's --gc-keep-storage through the real daemon and CLI: the collection after each build
 * applies the GC policy with that budget, so a cache record nothing needs any more (the RUN of an
 * image whose tag moved on) is pruned once the cache is over it; with 0 nothing is pruned
 * automatically; without the flag the budget is BuildKit's default, 10% of the data root's
 * filesystem (`tsbuild info` shows it). Each daemon is stopped with SIGTERM before the store
 * is read: its close waits for the collections still running, so what they did is all there.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultGcBudget } from '../../../src/cache/gc-policy.js';
import { BASE, busyboxTar, mountsUnder } from '../../helpers/build-env.js';
import { haveBusybox } from '../../helpers/busybox.js';
import { runTsbuild } from '../../helpers/cli.js';
import { startDaemon } from '../../helpers/daemon.js';
import { describeIf, haveBinary, isRoot } from '../../helpers/skip.js';

interface DuJson {
  readonly totalBytes: number;
  readonly records: readonly { readonly description: string; readonly size: number }[];
}

describeIf(isRoot && haveBinary('runc') && haveBusybox, 'needs root, runc and busybox', 'tsbuildd --gc-keep-storage', () => {
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuildd-gc-'));
    for (const n of [1, 2]) {
      await mkdir(join(dir, `ctx${n}`));
      // ~3 MB each: together well over the 1 MiB budget below.
      await writeFile(join(dir, `ctx${n}`, 'Dockerfile'), `FROM ${BASE}\nRUN head -c 3000000 /dev/urandom > /big${n}\n`);
    }
  });

  afterAll(async () => {
    if (dir) {
      expect(await mountsUnder(dir)).toEqual([]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  /** Two builds tagged `app` through a daemon started with `flags`; then the store's records. */
  async function buildTwiceThrough(name: string, flags: readonly string[]): Promise<DuJson> {
    const root = join(dir, name);
    const imported = await runTsbuild(['--root', root, 'image', 'import', await busyboxTar(), BASE]);
    expect(imported.stderr).toBe('');
    const addr = `unix://${join(dir, `${name}.sock`)}`;
    const daemon = await startDaemon(['--addr', addr, '--root', root, ...flags]);
    try {
      for (const n of [1, 2]) {
        const r = await runTsbuild(['--addr', addr, 'build', '--progress', 'quiet', '-t', 'app', join(dir, `ctx${n}`)]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      }
    } finally {
      expect((await daemon.stop()).code).toBe(0);
    }
    const du = await runTsbuild(['--root', root, 'du', '--format', 'json']);
    expect(du.code).toBe(0);
    return JSON.parse(du.stdout) as DuJson;
  }

  const runs = (du: DuJson): string[] => du.records.map((r) => r.description).filter((d) => d.includes('RUN')).sort();

  test('with a budget, the record of the RUN no image needs is pruned after the builds; the current image\'s stays', async () => {
    const du = await buildTwiceThrough('budget', ['--gc-keep-storage', '1MB']);
    expect(runs(du)).toEqual(['[2/2] RUN head -c 3000000 /dev/urandom > /big2']);
  }, 120_000);

  test('--gc-keep-storage 0: nothing is pruned automatically', async () => {
    const du = await buildTwiceThrough('off', ['--gc-keep-storage', '0']);
    expect(runs(du)).toEqual(['[2/2] RUN head -c 3000000 /dev/urandom > /big1', '[2/2] RUN head -c 3000000 /dev/urandom > /big2']);
    expect(du.totalBytes).toBeGreaterThan(6_000_000);
  }, 120_000);

  test('without the flag the budget is BuildKit\'s default, 10% of the data root\'s filesystem; tsbuild info shows it', async () => {
    const root = join(dir, 'default');
    const addr = `unix://${join(dir, 'default.sock')}`;
    const daemon = await startDaemon(['--addr', addr, '--root', root]);
    try {
      const info = await runTsbuild(['--addr', addr, 'info', '--format', 'json']);
      expect(info.code).toBe(0);
      expect((JSON.parse(info.stdout) as { gcKeepStorage: number }).gcKeepStorage).toBe(await defaultGcBudget(root));
      const off = await runTsbuild(['--addr', addr, 'info']);
      expect(off.stdout).toMatch(/^GC budget: +\S+ \(the cache is pruned after builds to stay under it\)$/m);
    } finally {
      expect((await daemon.stop()).code).toBe(0);
    }
  }, 60_000);
});
