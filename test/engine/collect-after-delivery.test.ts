/**
 * tsbuildd's builds (Engine.buildReceiving) start the engine's background collection after the
 * build only once the caller says the result was delivered (`delivered`): its synchronous walks of
 * the store held up the Solve handler's last sends by 10-17 ms of a one-file change (issue 14,
 * s14-steps). The build's lease shows it: it stays (unprotecting) until the collection after the
 * build has finished. A result never delivered does not hold up close().
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine } from '../../src/engine/index.js';
import type { ReceivingBuildRequest } from '../../src/engine/types.js';
import { describeBuilds, useBuildEnv } from '../helpers/build-env.js';

describeBuilds('the collection after a received build', () => {
  const env = useBuildEnv();
  let engine: Engine | undefined;
  let ctx: string;

  beforeAll(() => {
    ctx = join(env.root, '..', 'collect-ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'a.txt'), 'a\n');
  });
  afterAll(async () => {
    await engine?.close();
  });

  const request = (dest: string): ReceivingBuildRequest => ({
    contextDir: ctx, dockerfile: { name: 'Dockerfile', content: Buffer.from('FROM scratch\nCOPY a.txt /\n').toString('base64') },
    buildArgs: {}, labels: {}, noCache: false, noCacheFilter: [], network: 'default', ssh: {}, tags: [], outputs: [{ type: 'local', attrs: { dest } }],
    dockerignore: '',
  });
  const buildLeases = (e: Engine): number =>
    (e.services.storage.db.prepare("SELECT COUNT(*) AS n FROM leases WHERE label = 'build'").get() as { n: number }).n;

  test('waits for the delivery; close() does not wait for a delivery that never comes', async () => {
    engine = await Engine.open({ root: env.root, collectAfterBuild: 'background' });
    let deliver: () => void = () => undefined;
    const delivered = new Promise<void>((resolve) => (deliver = resolve));
    await engine.buildReceiving(request(join(env.root, '..', 'out-1')), { signal: new AbortController().signal, delivered }, Promise.resolve({}));
    // Without the wait the collection ran at once and let the lease go.
    await sleep(300);
    expect(buildLeases(engine)).toBe(1);
    deliver();
    for (let i = 0; i < 100 && buildLeases(engine) > 0; i++) await sleep(50);
    expect(buildLeases(engine)).toBe(0);

    await engine.buildReceiving(request(join(env.root, '..', 'out-2')), { signal: new AbortController().signal, delivered: new Promise<void>(() => undefined) }, Promise.resolve({}));
    expect(buildLeases(engine)).toBe(1);
    const e = engine;
    engine = undefined;
    await e.close();
    // Closed: the deferred collection ran (its lease went) before the store closed.
    const again = await Engine.open({ root: env.root, collectAfterBuild: 'background' });
    try {
      expect(buildLeases(again)).toBe(0);
    } finally {
      await again.close();
    }
  }, 60_000);
});
