/**
 * End to end, the case that motivated the copied-up-directory check: a RUN step in runc on a busybox
 * base snapshot. The executor's /etc/hosts, resolv.conf and hostname stubs make overlayfs copy /etc
 * up; the layer still holds only what the step wrote, as a BuildKit layer would.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { Overlay2Applier } from '../../../src/worker/diff/applier.js';
import { Overlay2Differ } from '../../../src/worker/diff/differ.js';
import { RuncExecutor } from '../../../src/worker/exec/runc-executor.js';
import { Overlay2Snapshotter } from '../../../src/worker/snapshot/overlay2-snapshotter.js';
import { makeBusyboxTar } from '../../helpers/busybox.js';
import { describeIf, haveBinary } from '../../helpers/skip.js';
import { canMount, makeTempDir, removeTempDir } from '../snapshot/fixtures.js';
import { runcList } from '../exec/fixture.js';
import { collect, listTar } from './tar-fixtures.js';

const canRun = canMount && haveBinary('runc') && existsSync('/bin/busybox');

describeIf(canRun, 'needs root, mount(8), runc and busybox-static (bash scripts/install-deps.sh)', 'the layer of a RUN step', () => {
  let tmp: string;
  let snap: Overlay2Snapshotter;
  let base: string;

  beforeAll(async () => {
    tmp = await makeTempDir('tsbuild-runlayer-');
    snap = new Overlay2Snapshotter({ root: join(tmp, 'root') });
    await makeBusyboxTar(join(tmp, 'busybox.tar'));
    base = (await new Overlay2Applier({ snapshotter: snap }).apply(createReadStream(join(tmp, 'busybox.tar')))).id;
  });
  afterAll(async () => {
    await snap?.close();
    if (tmp !== undefined) await removeTempDir(tmp);
  });

  test('RUN mkdir -p /data/layer gives data/ and data/layer/ only, though /etc was copied up', async () => {
    const executor = new RuncExecutor({ root: join(tmp, 'root') });
    const step = await snap.prepare({ parent: base });
    await snap.withMount(step, (rootfs) => executor.run({
      rootfs,
      args: ['/bin/sh', '-c', 'mkdir -p /data/layer'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      network: 'none',
      signal: AbortSignal.timeout(60_000),
    }));
    await snap.commit(step);
    expect((await lstat(join(step.upperDir, 'etc'))).isDirectory()).toBe(true);
    const entries = await listTar(await collect(new Overlay2Differ({ snapshotter: snap }).diff(step.id)));
    expect(entries.map((e) => e.name)).toEqual(['data/', 'data/layer/']);
    expect(runcList(join(tmp, 'root', 'runc'))).toEqual([]);
  });
});
