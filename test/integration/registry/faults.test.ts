/**
 * Registry faults reach the user as one `error:` line naming the reference and what went wrong,
 * exit code 1, no stack trace — for pull, push and FROM: registry down, 401, 403, a missing
 * manifest, a corrupt (digest mismatch) or truncated blob, a malformed manifest, a manifest list
 * without the requested platform. After every failed pull the data root is consistent: no image
 * name, no partial blob (nothing left in ingest/), `cache check` clean.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { freePort } from '../../helpers/registry.js';
import { RegistryClient } from '../../../src/registry/client.js';
import { StaticCredentials } from '../../../src/registry/docker-credentials.js';
import { MemoryBlobSource } from '../../../src/registry/memory-source.js';
import { buildImage, buildIndex } from '../../registry/image-fixture.js';
import { describeIf } from '../../helpers/skip.js';
import { canRun, cannotRunWhy, expectOneError, RegistryWorld } from './world.js';

interface Manifest { layers: { digest: string }[] }

describeIf(canRun, cannotRunWhy, 'registry faults through the CLI', () => {
  let w: RegistryWorld;
  let base: string;
  let layer: string;
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  beforeAll(async () => {
    w = await RegistryWorld.create('rfaults');
    base = await w.seedBase();
    layer = (await w.registryManifest<Manifest>('base/busybox:1')).layers[0]?.digest as string;
  }, 120_000);

  afterAll(async () => {
    expect(await w.mounts()).toEqual([]);
    await w.cleanup();
  }, 60_000);

  /** A failed pull left nothing: no name, no partial blob, a clean check. */
  async function expectUntouched(root: string): Promise<void> {
    expect((await w.run(root, ['images', '--format', 'json'])).stdout).toBe('');
    expect(await w.ingest(root)).toEqual([]);
    expect(await w.blobs(root)).not.toContain(layer.slice('sha256:'.length));
    const check = await w.run(root, ['cache', 'check']);
    expect(check.code).toBe(0);
  }

  async function withFault<T>(rule: Parameters<RegistryWorld['proxy']['addRule']>[0], fn: () => Promise<T>): Promise<T> {
    w.proxy.addRule(rule);
    try {
      return await fn();
    } finally {
      w.proxy.clearRules();
    }
  }

  test('registry down: pull, push and FROM each fail with one line naming the reference', async () => {
    const port = await freePort();
    const ref = `127.0.0.1:${port}/app:1`;
    expectOneError(await w.run('down', ['pull', ref]), new RegExp(`^error: pull ${esc(ref)}: cannot reach registry 127\\.0\\.0\\.1:${port}: connection refused$`));
    await w.importBusybox('down', ref);
    expectOneError(await w.run('down', ['push', ref]), new RegExp(`^error: push ${esc(ref)}: cannot reach registry .*connection refused$`));
    const ctx = await w.context('down', `FROM 127.0.0.1:${port}/missing:1\nRUN true\n`);
    expectOneError(await w.run('down2', ['build', '--progress', 'quiet', ctx]),
      new RegExp(`Dockerfile:1:1: failed to resolve base image 127\\.0\\.0\\.1:${port}/missing:1: .*cannot reach registry`));
    // An image only COPY --from reads is pulled by the solver: its failure points at that COPY.
    const copyCtx = await w.context('down-copy', `FROM ${ref}\nRUN true\nCOPY --from=127.0.0.1:${port}/missing:1 /a /b\n`);
    expectOneError(await w.run('down', ['build', '--progress', 'quiet', copyCtx]),
      new RegExp(`Dockerfile:3:1: FROM 127\\.0\\.0\\.1:${port}/missing:1: .*cannot reach registry`));
  }, 120_000);

  test('401 and 403 from the registry', async () => {
    await withFault({ path: /\/manifests\//, fault: { kind: 'status', status: 401 } }, async () => {
      expectOneError(await w.run('auth', ['pull', base]), new RegExp(`^error: pull ${esc(base)}: .*(unauthorized|401)`, 'i'));
    });
    await withFault({ path: /\/manifests\//, fault: { kind: 'status', status: 403 } }, async () => {
      expectOneError(await w.run('auth', ['pull', base]), new RegExp(`^error: pull ${esc(base)}: .*(denied|403)`, 'i'));
    });
    await expectUntouched('auth');
  }, 120_000);

  test('a manifest that does not exist', async () => {
    const ref = `${w.host}/base/busybox:nope`;
    expectOneError(await w.run('nf', ['pull', ref]), new RegExp(`^error: pull ${esc(ref)}: manifest for ${esc(ref)} not found`));
    await expectUntouched('nf');
  }, 60_000);

  test('a corrupt layer (digest mismatch) and a truncated layer keep nothing partial', async () => {
    await withFault({ method: 'GET', path: new RegExp(`/blobs/${layer}$`), fault: { kind: 'corrupt' } }, async () => {
      expectOneError(await w.run('bad', ['pull', base]), new RegExp(`^error: pull ${esc(base)}: .*${layer.slice(0, 19)}.*(digest|hash)`, 'i'));
    });
    await expectUntouched('bad');
    await withFault({ method: 'GET', path: new RegExp(`/blobs/${layer}$`), fault: { kind: 'truncate', bytes: 1000 } }, async () => {
      expectOneError(await w.run('bad', ['pull', base]), new RegExp(`^error: pull ${esc(base)}: .*(truncat|ended|short)`, 'i'));
    });
    await expectUntouched('bad');
    // A later pull without the fault completes and reuses nothing broken.
    await w.ok('bad', ['pull', base]);
    expect((await w.run('bad', ['cache', 'check', '--deep'])).code).toBe(0);
  }, 180_000);

  test('a malformed manifest', async () => {
    await withFault({ method: 'GET', path: /\/manifests\//, fault: { kind: 'replace-body', body: Buffer.from('{"schemaVersion": 2, "layers": [oops'), contentType: 'application/vnd.oci.image.manifest.v1+json' } }, async () => {
      expectOneError(await w.run('mal', ['pull', base]), new RegExp(`^error: pull ${esc(base)}: .*(malformed manifest|not JSON|digest)`, 'i'));
    });
    await expectUntouched('mal');
  }, 60_000);

  test('a manifest list without the requested platform names the platforms it has', async () => {
    const src = new MemoryBlobSource();
    const arm = buildImage(src, { platform: { os: 'linux', architecture: 'arm64' } });
    const idx = buildIndex(src, [{ image: arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }]);
    const ref = `${w.host}/multi/app:1`;
    const c = new RegistryClient({ credentials: new StaticCredentials({}) });
    try {
      await c.push({ ref, root: idx.index, source: src });
    } finally {
      c.close();
    }
    expectOneError(await w.run('plat', ['pull', ref]), new RegExp(`^error: pull ${esc(ref)}: no manifest for platform linux/amd64 \\(the image has: linux/arm64`));
    const ctx = await w.context('plat', `FROM ${ref}\n`);
    expectOneError(await w.run('plat', ['build', '--progress', 'quiet', ctx]), /failed to resolve base image .*no manifest for platform linux\/amd64/);
    expect(await w.ingest('plat')).toEqual([]);
  }, 60_000);

  test('a push refused by the registry (403) is one line; bad flags are usage errors', async () => {
    await w.importBusybox('pusher', `${w.host}/team/denied:1`);
    await withFault({ method: 'POST', path: /\/blobs\/uploads\//, fault: { kind: 'status', status: 403 } }, async () => {
      expectOneError(await w.run('pusher', ['push', `${w.host}/team/denied:1`]), /^error: push .*team\/denied:1: .*(denied|403)/i);
    });
    expectOneError(await w.run('pusher', ['build', '--cache-to', 'type=registry', '.']), /invalid --cache-to "type=registry": ref= is required/);
    expectOneError(await w.run('pusher', ['build', '--cache-from', 'type=local,src=/x,mode=max', '.']), /invalid --cache-from .*unknown attribute "mode"/);
    expectOneError(await w.run('pusher', ['pull', '--registry-ca', '/nonexistent.pem', base]), /--registry-ca: \/nonexistent\.pem: no such file/);
  }, 60_000);
});
