/**
 * Build progress the way Docker users read it, through the real CLI: `[internal] load
 * .dockerignore` and `[internal] load metadata for IMAGE` steps, `exporting layers`, `writing image
 * sha256:…`, `naming to docker.io/library/NAME:TAG` in plain mode, the full image ID and no cut
 * progress bars in the tty display's final frame, a base image that cannot be found failing under
 * its own metadata step with advice on how to get one, and a 1 MB layer pulled in a few lines.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { haveBusybox } from '../../helpers/busybox.js';
import { haveRegistry, registryMissingWhy, startRegistry } from '../../helpers/registry.js';
import { describeIf, isRoot, testIf } from '../../helpers/skip.js';
import { Workspace } from './workspace.js';

const ID = 'sha256:[0-9a-f]{64}';

describeIf(isRoot && haveBusybox, 'needs root and busybox-static', 'progress as Docker shows it', () => {
  let ws: Workspace;
  const root = 'main';

  beforeAll(async () => {
    ws = await Workspace.create('docker-progress');
    await ws.importBusybox(root);
  }, 180_000);

  afterAll(async () => {
    await ws.finish();
  }, 60_000);

  test('plain: load definition, .dockerignore and metadata steps first, then export rows as Docker names them', async () => {
    const ctx = await ws.context('plain', 'FROM busybox\nRUN echo one > /one\n', { '.dockerignore': '*.tmp\n' });
    const r = await ws.ok(root, ['build', '--progress=plain', '-t', 'app:1', '.'], { cwd: ctx });
    const headers = r.stderr.split('\n').filter((l) => /^#\d+ [^\d]/.test(l) && !/ (DONE|CACHED|CACHE MISS|ERROR)/.test(l));
    const steps = [...new Set(headers.filter((l) => /^#\d+ (\[|exporting to image)/.test(l)))];
    expect(steps).toEqual([
      '#1 [internal] load build definition from Dockerfile',
      '#2 [internal] load .dockerignore',
      '#3 [internal] load metadata for docker.io/library/busybox:latest',
      '#4 [1/2] FROM docker.io/library/busybox:latest',
      '#5 [2/2] RUN echo one > /one',
      '#6 exporting to image',
    ]);
    expect(r.stderr).toMatch(/^#1 transferring dockerfile: \d+B done$/m);
    expect(r.stderr).toMatch(/^#2 transferring context: \d+B done$/m);
    expect(r.stderr).toMatch(/^#6 exporting layers( [\d.]+s)? done$/m);
    expect(r.stderr).toMatch(new RegExp(`^#6 writing image ${ID}( [\\d.]+s)? done$`, 'm'));
    expect(r.stderr).toMatch(/^#6 naming to docker\.io\/library\/app:1( [\d.]+s)? done$/m);
  }, 180_000);

  test('tty: the final frame shows the whole image ID and no progress bar cut short', async () => {
    const ctx = await ws.context('tty', 'FROM busybox\nRUN echo two > /two\n');
    const r = await ws.ok(root, ['build', '--progress=tty', '-t', 'app:2', ctx], { env: { COLUMNS: '80' } });
    // The last frame: from the last `[+] Building … FINISHED` header on, escape codes removed.
    // eslint-disable-next-line no-control-regex
    const plain = r.stderr.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    const frame = plain.slice(plain.lastIndexOf('[+] Building'));
    expect(frame).toMatch(/FINISHED/);
    expect(frame).toContain(' => [internal] load .dockerignore');
    expect(frame).toContain(' => [internal] load metadata for docker.io/library/busybox:latest');
    expect(frame).toMatch(/ => => exporting layers +[\d.]+s/);
    expect(frame).toMatch(new RegExp(` => => writing image ${ID} [\\d.]+s`));
    expect(frame).toMatch(/ => => naming to docker\.io\/library\/app:2 +[\d.]+s/);
    expect(frame).toMatch(/ => => exporting layer 1\/2 sha256:[0-9a-f]{12} [\d.]+[kM]?B \/ [\d.]+[kM]?B +[\d.]+s/);
    // A bar is shown whole or not at all.
    for (const line of frame.split('\n')) expect(line).not.toMatch(/\[=*>?\s*$|\[=+ [\d.]+s$/);
  }, 180_000);

  test('a base image missing locally and unreachable fails under its metadata step and says how to get one', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const ctx = await ws.context('missing', 'ARG BASE=127.0.0.1:1/nope:latest\nFROM ${BASE}\nRUN true\n');
    const r = await ws.run(root, ['build', '--progress=plain', '.'], { cwd: ctx });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^#1 \[internal\] load build definition from Dockerfile\n#1 transferring dockerfile: \d+B done\n#1 DONE /m);
    expect(r.stderr).toMatch(/^#3 \[internal\] load metadata for 127\.0\.0\.1:1\/nope:latest\n#3 ERROR: .*127\.0\.0\.1:1/m);
    expect(r.stderr).toContain(' > [internal] load metadata for 127.0.0.1:1/nope:latest:');
    expect(r.stderr).not.toContain(' > [internal] load build definition');
    expect(r.stderr).toContain('error: Dockerfile:2:1: failed to resolve base image 127.0.0.1:1/nope:latest');
    expect(r.stderr).toMatch(/^hint: 127\.0\.0\.1:1\/nope:latest is not in the local store/m);
    expect(r.stderr).toMatch(/^ +tsbuild image load -i FILE\.tar/m);
    expect(r.stderr).toMatch(/^ +tsbuild pull 127\.0\.0\.1:1\/nope:latest/m);
    expect(r.stderr).toMatch(/^ +tsbuild build --build-arg BASE=IMAGE/m);
    // The hint names no ARG when FROM names the image itself.
    const direct = await ws.context('missing-direct', 'FROM 127.0.0.1:1/nope\n');
    const d = await ws.run(root, ['build', '-q', direct]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/^ +tsbuild image load -i FILE\.tar/m);
    expect(d.stderr).not.toContain('--build-arg');
  }, 180_000);

  testIf(haveRegistry, registryMissingWhy, 'a pulled 1 MB layer shows in a few lines', async () => {
    const reg = await startRegistry();
    try {
      const name = `${reg.host}/bb:1`;
      await ws.ok(root, ['tag', 'busybox', name]);
      await ws.ok(root, ['push', name]);
      const ctx = await ws.context('pull', `FROM ${name}\nRUN true\n`);
      const r = await ws.ok('fresh', ['build', '--progress=plain', ctx]);
      const from = r.stderr.split('\n').filter((l) => l.startsWith('#4 '));
      expect(from[0]).toBe(`#4 [1/2] FROM ${name}`);
      const pulling = from.filter((l) => / sha256:[0-9a-f]{12} /.test(l) && !/extracting/.test(l));
      expect(pulling.length).toBeGreaterThanOrEqual(1);
      expect(pulling.length).toBeLessThanOrEqual(3);
      expect(pulling.filter((l) => / done$/.test(l))).toHaveLength(1);
      expect(from.length).toBeLessThanOrEqual(8);
    } finally {
      await reg.stop();
    }
  }, 180_000);
});
