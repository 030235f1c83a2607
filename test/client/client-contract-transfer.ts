/**
 * The contract cases that move images in and out of the store (client-contract.ts registers them
 * for every client): `image load` of a docker-save archive, `image import` of a directory, and
 * `push` / `pull` against a real registry (Debian's docker-registry with htpasswd auth) whose
 * credentials only the client's docker config holds — so through tsbuildd they must come from the
 * client. Each client gets its own registry: the same calls then give the same answers, transfer
 * events and typed errors (down to the printed line) whichever client made them.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import type { Client, TransferEvent } from '../../src/client/types.js';
import { formatError } from '../../cmd/cli/main.js';
import { haveRegistry, registryMissingWhy, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { testIf } from '../helpers/skip.js';

export interface TransferContext {
  readonly client: () => Client;
  readonly signal: AbortSignal;
  /** A scratch directory of the suite (removed by it). */
  readonly dir: () => string;
  /** The built `app:1` image: manifest and config digests. */
  readonly image: () => { readonly imageDigest: string; readonly configDigest: string };
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

async function tarOf(entries: readonly { readonly name: string; readonly body: Buffer | string }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) pack.entry({ name: e.name, mtime: new Date(1_700_000_000_000), mode: 0o644, uid: 0, gid: 0 }, e.body);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A one-layer `docker save` archive named `contract/loaded:1`; returns its file and config digest. */
async function dockerSaveArchive(dir: string): Promise<{ file: string; configDigest: string }> {
  const layer = await tarOf([{ name: 'hello.txt', body: 'hello from a loaded layer\n' }]);
  const diffId = `sha256:${sha256(layer)}`;
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2023-11-14T22:13:20Z', config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [diffId] }, history: [{ created: '2023-11-14T22:13:20Z', created_by: 'ADD hello.txt /' }],
  }));
  const configHex = sha256(config);
  const manifest = JSON.stringify([{ Config: `${configHex}.json`, RepoTags: ['contract/loaded:1'], Layers: [`${sha256(layer)}/layer.tar`] }]);
  const file = join(dir, 'loaded.tar');
  await writeFile(file, await tarOf([
    { name: `${configHex}.json`, body: config }, { name: `${sha256(layer)}/layer.tar`, body: layer }, { name: 'manifest.json', body: manifest },
  ]));
  return { file, configDigest: `sha256:${configHex}` };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => undefined, (e: unknown) => e);
}

export function transferContract(t: TransferContext): void {
  const { signal } = t;
  const c = (): Client => t.client();

  test('loadImages: a docker-save archive, streamed from the client; errors name the client\'s file', async () => {
    const { file, configDigest } = await dockerSaveArchive(t.dir());
    const loaded = await c().loadImages({ source: file }, { signal });
    expect(loaded).toEqual([{ name: 'docker.io/contract/loaded:1', manifestDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), configDigest }]);
    expect((await c().inspect({ name: 'contract/loaded:1' }, { signal })).Id).toBe(configDigest);

    const missing = join(t.dir(), 'no-such.tar');
    const err = await failure(c().loadImages({ source: missing }, { signal }));
    expect(err).toMatchObject({ code: 'IMAGE_LOAD_SOURCE_MISSING' });
    expect(formatError(err, false)).toBe(`error: open ${missing}: no such file or directory\n`);

    const junk = join(t.dir(), 'junk.tar');
    await writeFile(junk, await tarOf([{ name: 'readme.txt', body: 'not an image' }]));
    const bad = await failure(c().loadImages({ source: junk }, { signal }));
    expect(bad).toMatchObject({ name: 'UserInputError' });
    expect(formatError(bad, false)).toContain(junk);
  });

  test('importImage: a directory becomes a one-layer image with the same history comment', async () => {
    const rootfs = join(t.dir(), 'rootfs');
    await mkdir(join(rootfs, 'etc'), { recursive: true });
    await writeFile(join(rootfs, 'etc', 'motd'), 'imported\n');
    const rec = await c().importImage({ source: rootfs, name: 'contract/imported:1' }, { signal });
    expect(rec).toMatchObject({ name: 'docker.io/contract/imported:1', manifestDigest: expect.stringMatching(/^sha256:/) });
    const rows = await c().history({ name: 'contract/imported:1' }, { signal });
    expect(rows.map((r) => [r.comment, r.size])).toEqual([[`Imported from ${rootfs}`, 9]]);

    const missing = join(t.dir(), 'no-such-rootfs.tar');
    const err = await failure(c().importImage({ source: missing, name: 'x:1' }, { signal }));
    expect(err).toMatchObject({ code: 'IMPORT_SOURCE_MISSING' });
    expect(formatError(err, false)).toBe(`error: ${missing}: no such file or directory\n`);
  });

  // Plain tests beside the others (not a nested describe, which Jest would run after the suite's
  // last case, the prune): they need the built image and its blobs.
  {
    let reg: TestRegistry | undefined;
    let host = '';
    let configDir = '';
    let emptyConfigDir = '';
    let name = '';
    let pushedDigest = '';
    const registryTest = (title: string, fn: () => Promise<void>): void => testIf(haveRegistry, registryMissingWhy, title, fn, 120_000);

    beforeAll(async () => {
      if (!haveRegistry) return;
      reg = await startRegistry({ auth: { kind: 'htpasswd', users: { ci: 's3cret-pass' } } });
      configDir = await mkdtemp(join(t.dir(), 'docker-config-'));
      emptyConfigDir = await mkdtemp(join(t.dir(), 'docker-empty-'));
      const auth = Buffer.from('ci:s3cret-pass').toString('base64');
      host = reg.host;
      await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: { [host]: { auth } } }));
      name = `${host}/contract/app:1`;
    }, 60_000);
    afterAll(async () => {
      await reg?.stop();
    });

    registryTest('push without credentials: the registry refuses, the same typed error', async () => {
      await c().tagImage({ source: 'app:1', target: name }, { signal });
      const err = await failure(c().push({ name, registry: { dockerConfigDir: emptyConfigDir } }, { signal }));
      expect(err).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
      expect(formatError(err, false)).toMatch(new RegExp(`^error: .*${host.replace(/\./g, '\\.')}.*\n$`));
      expect(formatError(err, false)).not.toContain('s3cret');
    });

    registryTest('push with the client\'s docker config: every blob uploaded, progress for each', async () => {
      const events: TransferEvent[] = [];
      const pushed = await c().push({ name, registry: { dockerConfigDir: configDir } }, { signal, onProgress: (e) => events.push(e) });
      // The local image keeps its layers uncompressed; the push compresses them (gzip), so the
      // registry's manifest is a new document: its digest is the push's, the image ID stays.
      expect(pushed).toMatchObject({ name, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), size: expect.any(Number) });
      expect(pushed.digest).not.toBe(t.image().imageDigest);
      pushedDigest = pushed.digest;
      expect(pushed.blobs).toHaveLength(4);
      expect(pushed.blobs.every((b) => b.outcome === 'uploaded')).toBe(true);
      const done = events.filter((e) => e.kind === 'done');
      expect(new Set(done.map((e) => e.digest))).toEqual(new Set(pushed.blobs.map((b) => b.digest)));
      expect(JSON.parse(JSON.stringify(events))).toEqual(events);
      // The push is the image's RepoDigest in that repository (docker's DIGEST column and RepoDigests).
      const rows = await c().listImages({ signal });
      expect(rows.find((r) => r.name === name)).toMatchObject({ digest: pushed.digest });
      expect(rows.find((r) => r.name === 'docker.io/library/app:1')?.digest).toBeUndefined();
      expect((await c().inspect({ name }, { signal })).RepoDigests).toEqual([`${host}/contract/app@${pushed.digest}`]);
    });

    registryTest('pull back: the name returns, every layer already present', async () => {
      await c().removeImage({ name }, { signal });
      const events: TransferEvent[] = [];
      const pulled = await c().pull({ ref: name, registry: { dockerConfigDir: configDir } }, { signal, onProgress: (e) => events.push(e) });
      const { imageDigest, configDigest } = t.image();
      expect(imageDigest).not.toBe(pushedDigest);
      expect(pulled).toMatchObject({ name, digest: pushedDigest, manifestDigest: pushedDigest, configDigest, upToDate: false });
      expect(pulled.layers.map((l) => l.outcome)).toEqual(['present', 'present', 'present']);
      const again = await c().pull({ ref: name, registry: { dockerConfigDir: configDir } }, { signal });
      expect(again.upToDate).toBe(true);

      const err = await failure(c().pull({ ref: `${host}/contract/nope:1`, registry: { dockerConfigDir: configDir } }, { signal }));
      expect(err).toMatchObject({ code: 'MANIFEST_NOT_FOUND' });
      expect(formatError(err, false)).toContain('contract/nope:1');
    });
  }
}
