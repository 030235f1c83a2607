/**
 * diff → apply → diff gives the identical layer digest, for a layer with every kind of entry, when
 * the layer is applied onto the parent it was made on (then the copied-up-directory check sees the
 * same lower dirs) or onto nothing; the applier takes gzip and plain tar, turns OCI whiteouts back
 * into overlay ones, and reports the diff_id of what it read.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { getAttributeSync, setAttributeSync } from '@napi-rs/xattr';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, link, lstat, mkdir, readFile, readdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Overlay2Applier } from '../../../src/worker/diff/applier.js';
import { Overlay2Differ } from '../../../src/worker/diff/differ.js';
import { Overlay2Snapshotter } from '../../../src/worker/snapshot/overlay2-snapshotter.js';
import { describeIf } from '../../helpers/skip.js';
import { canMount, makeTempDir, removeTempDir, whyNoMount } from '../snapshot/fixtures.js';
import { buildTar, collect, listTar, sha256 } from './tar-fixtures.js';

const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex');

describeIf(canMount, whyNoMount, 'layer round trip', () => {
  let root: string;
  let snap: Overlay2Snapshotter;
  let differ: Overlay2Differ;
  let applier: Overlay2Applier;

  beforeEach(async () => {
    root = await makeTempDir('tsbuild-rt-');
    snap = new Overlay2Snapshotter({ root });
    differ = new Overlay2Differ({ snapshotter: snap });
    applier = new Overlay2Applier({ snapshotter: snap });
  });
  afterEach(async () => {
    await snap.close();
    await removeTempDir(root);
  });

  const LOWER_TIME = 1_111_111_111;

  /** The parent of the rich snapshot: directories it copies up, some of them unchanged. */
  async function lowerSnapshot(): Promise<string> {
    const p = await snap.prepare();
    const up = p.upperDir;
    for (const d of ['etc', 'usr/bin', 'tmp', 'same-empty', 'same-with-child']) await mkdir(join(up, d), { recursive: true });
    await writeFile(join(up, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
    for (const d of ['etc', 'tmp', 'same-empty', 'same-with-child', 'usr']) await utimes(join(up, d), LOWER_TIME, LOWER_TIME);
    await utimes(join(up, 'usr', 'bin'), 1_234_567_890, 1_234_567_890);
    return snap.commit(p);
  }

  /** A snapshot with one of everything a layer can hold, on `parent` when given. */
  async function richSnapshot(parent?: string): Promise<string> {
    const a = await snap.prepare(parent === undefined ? {} : { parent });
    const up = a.upperDir;
    await mkdir(join(up, 'etc', 'ssl'), { recursive: true });
    await writeFile(join(up, 'etc', 'hostname-less'), '');
    await writeFile(join(up, 'etc', 'ssl', 'big.bin'), randomBytes(3 * 1024 * 1024 + 17));
    await mkdir(join(up, 'usr', 'bin'), { recursive: true });
    await writeFile(join(up, 'usr', 'bin', 'ping'), 'ELF');
    await chmod(join(up, 'usr', 'bin', 'ping'), 0o4711);
    setAttributeSync(join(up, 'usr', 'bin', 'ping'), 'security.capability', CAP_NET_RAW);
    setAttributeSync(join(up, 'usr', 'bin', 'ping'), 'user.mime', 'application/x-executable');
    await link(join(up, 'usr', 'bin', 'ping'), join(up, 'usr', 'bin', 'ping6'));
    await symlink('/usr/bin/ping', join(up, 'usr', 'bin', 'abs-link'));
    await symlink('../../etc/ssl', join(up, 'usr', 'bin', 'rel-link'));
    await mkdir(join(up, 'home', 'app'), { recursive: true });
    await writeFile(join(up, 'home', 'app', 'notes'), 'mine');
    await chown(join(up, 'home', 'app', 'notes'), 1000, 1000);
    await chown(join(up, 'home', 'app'), 1000, 1000);
    await mkdir(join(up, 'tmp'), { mode: 0o777 });
    await chmod(join(up, 'tmp'), 0o1777);
    execFileSync('mknod', ['-m', '0666', join(up, 'null'), 'c', '1', '3']);
    execFileSync('mknod', ['-m', '0660', join(up, 'loop9'), 'b', '7', '9']);
    execFileSync('mkfifo', ['-m', '0640', join(up, 'fifo')]);
    // whiteouts and an opaque directory, as overlay leaves them
    execFileSync('mknod', [join(up, 'etc', 'deleted'), 'c', '0', '0']);
    await mkdir(join(up, 'var', 'cache'), { recursive: true });
    setAttributeSync(join(up, 'var', 'cache'), 'trusted.overlay.opaque', 'y');
    await writeFile(join(up, 'var', 'cache', 'fresh'), 'f');
    // names: long (PAX path), non-ASCII UTF-8, and bytes that are not UTF-8 at all
    const long = join(up, 'x'.repeat(150), 'y'.repeat(180));
    await mkdir(long, { recursive: true });
    await writeFile(join(long, 'z'.repeat(200)), 'long');
    await writeFile(join(up, 'grüße-日本'), 'utf8');
    await writeFile(Buffer.concat([Buffer.from(`${up}/latin1-`), Buffer.from([0xe9, 0xff])]), 'bytes');
    await symlink('t'.repeat(300), join(up, 'long-target'));
    // Copied-up directories: unchanged ones (one with something new inside), and a chmod.
    await mkdir(join(up, 'same-empty'));
    await mkdir(join(up, 'same-with-child'));
    await writeFile(join(up, 'same-with-child', 'new'), 'n');
    for (const d of ['etc', 'same-empty', 'same-with-child', 'usr']) await utimes(join(up, d), LOWER_TIME, LOWER_TIME);
    await chmod(join(up, 'tmp'), 0o1777);
    await utimes(join(up, 'tmp'), LOWER_TIME, LOWER_TIME);
    await utimes(join(up, 'etc', 'hostname-less'), 0, 0);
    await utimes(join(up, 'usr', 'bin'), 1_234_567_890, 1_234_567_890);
    return snap.commit(a);
  }

  test('diff → apply → diff is byte-identical, plain and gzip, onto the same parent or none', async () => {
    const parent = await lowerSnapshot();
    const first = await richSnapshot(parent);
    const tar1 = await collect(differ.diff(first));
    const names = (await listTar(tar1)).map((e) => e.name);
    // Unchanged copied-up directories appear only as parents of what is in the layer.
    expect(names).not.toContain('same-empty/');
    expect(names.indexOf('same-with-child/')).toBe(names.indexOf('same-with-child/new') - 1);
    expect(names.slice(0, 2)).toEqual(['etc/', 'etc/.wh.deleted']);
    expect(names).toContain('tmp/');

    const applied = await applier.apply(Readable.from([tar1]), { parent });
    expect(applied.diffId).toBe(sha256(tar1));
    expect(applied.uncompressedSize).toBe(tar1.length);
    expect(await snap.parent(applied.id)).toBe(parent);
    const tar2 = await collect(differ.diff(applied.id));
    expect(sha256(tar2)).toBe(sha256(tar1));

    // gzip, fed in small odd-sized chunks, onto no parent: nothing is compared, every entry stays
    const gz = gzipSync(tar1);
    const chunks = [];
    for (let i = 0; i < gz.length; i += 7777) chunks.push(gz.subarray(i, i + 7777));
    const fromGzip = await applier.apply(Readable.from(chunks));
    expect(fromGzip.diffId).toBe(sha256(tar1));
    expect(sha256(await collect(differ.diff(fromGzip.id)))).toBe(sha256(tar1));
    expect(await snap.parent(fromGzip.id)).toBeUndefined();

    // The applied snapshot holds overlay-format whiteouts again, with real metadata.
    const up = snap.diffDir(applied.id);
    const wh = await lstat(join(up, 'etc', 'deleted'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(getAttributeSync(join(up, 'var', 'cache'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(getAttributeSync(join(up, 'usr', 'bin', 'ping'), 'security.capability')).toEqual(CAP_NET_RAW);
    const ping = await lstat(join(up, 'usr', 'bin', 'ping'));
    expect([ping.mode & 0o7777, ping.nlink]).toEqual([0o4711, 2]);
    expect((await lstat(join(up, 'tmp'))).mode & 0o7777).toBe(0o1777);
    expect((await lstat(join(up, 'home', 'app', 'notes'))).uid).toBe(1000);
    expect((await lstat(join(up, 'null'))).rdev).toBe((await lstat('/dev/null')).rdev);
  });

  test('the applied chain mounts: whiteouts hide and opaque dirs replace lower content', async () => {
    const lower = await snap.prepare();
    await mkdir(join(lower.upperDir, 'var', 'cache'), { recursive: true });
    await writeFile(join(lower.upperDir, 'var', 'cache', 'stale'), 's');
    await writeFile(join(lower.upperDir, 'remove-me'), 'r');
    await snap.commit(lower);
    const layer = await buildTar([
      { name: '.wh.remove-me' },
      { name: 'var/', type: 'directory' },
      { name: 'var/cache/', type: 'directory' },
      { name: 'var/cache/.wh..wh..opq' },
      { name: 'var/cache/fresh', body: 'f' },
    ]);
    const applied = await applier.apply(Readable.from([layer]), { parent: lower.id });
    await snap.withView(applied.id, async (v) => {
      expect((await readdir(v)).sort()).toEqual(['var']);
      expect(await readdir(join(v, 'var', 'cache'))).toEqual(['fresh']);
      expect(await readFile(join(v, 'var', 'cache', 'fresh'), 'utf8')).toBe('f');
    });
  });

  test('tar written by GNU tar applies, including hardlinks and a missing end marker', async () => {
    const src = join(root, 'src');
    await mkdir(join(src, 'd'), { recursive: true });
    await writeFile(join(src, 'd', 'f'), 'gnu');
    await link(join(src, 'd', 'f'), join(src, 'd', 'g'));
    const gnu = execFileSync('tar', ['--format=gnu', '-cf', '-', '-C', src, '.']);
    const applied = await applier.apply(Readable.from([gnu]));
    const up = snap.diffDir(applied.id);
    expect(await readFile(join(up, 'd', 'g'), 'utf8')).toBe('gnu');
    expect((await lstat(join(up, 'd', 'g'))).nlink).toBe(2);
    // Go accepts a tar cut right after an entry (no zero blocks); so do we.
    const oneEntry = (await buildTar([{ name: 'only', body: 'x' }])).subarray(0, 1024);
    const cut = await applier.apply(Readable.from([oneEntry]));
    expect(await readFile(join(snap.diffDir(cut.id), 'only'), 'utf8')).toBe('x');
  });

  test('an aborted apply leaves no snapshot behind', async () => {
    const before = await snap.list();
    const ac = new AbortController();
    async function* slow(): AsyncGenerator<Buffer> {
      const tar = await buildTar(Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, body: 'x'.repeat(1000) })));
      for (let i = 0; i < tar.length; i += 512) {
        if (i === 512 * 10) ac.abort(new Error('stop'));
        yield tar.subarray(i, i + 512);
      }
    }
    await expect(applier.apply(slow(), { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await snap.list()).toEqual(before);
  });
});
