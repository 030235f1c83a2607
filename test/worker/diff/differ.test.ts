/**
 * The differ on real snapshots: deletions and a replaced directory made through a real overlay
 * mount become OCI whiteouts; metadata, xattrs (binary ones too), hardlinks and long names are
 * kept; the output is deterministic, GNU tar reads it, and SOURCE_DATE_EPOCH clamps mtimes.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { setAttributeSync } from '@napi-rs/xattr';
import { execFileSync } from 'node:child_process';
import { chmod, chown, link, mkdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Overlay2Differ } from '../../../src/worker/diff/differ.js';
import { Overlay2Snapshotter } from '../../../src/worker/snapshot/overlay2-snapshotter.js';
import { describeIf } from '../../helpers/skip.js';
import { canMount, makeTempDir, removeTempDir, whyNoMount } from '../snapshot/fixtures.js';
import { collect, listTar } from './tar-fixtures.js';

/** vfs_cap_data v2 granting cap_net_raw (what `setcap cap_net_raw+ep` writes): binary, with NULs. */
const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex');

describeIf(canMount, whyNoMount, 'overlay2 differ', () => {
  let root: string;
  let snap: Overlay2Snapshotter;
  let differ: Overlay2Differ;

  beforeEach(async () => {
    root = await makeTempDir('tsbuild-diff-');
    snap = new Overlay2Snapshotter({ root });
    differ = new Overlay2Differ({ snapshotter: snap });
  });
  afterEach(async () => {
    await snap.close();
    await removeTempDir(root);
  });

  test('deleting a file and a directory and replacing a directory through overlay gives OCI whiteouts', async () => {
    const base = await snap.prepare();
    await writeFile(join(base.upperDir, 'gone-file'), 'x');
    await mkdir(join(base.upperDir, 'gone-dir', 'sub'), { recursive: true });
    await writeFile(join(base.upperDir, 'gone-dir', 'sub', 'f'), 'x');
    await mkdir(join(base.upperDir, 'replaced'));
    await writeFile(join(base.upperDir, 'replaced', 'old'), 'old');
    await mkdir(join(base.upperDir, 'kept'));
    await writeFile(join(base.upperDir, 'kept', 'untouched'), 'u');
    await snap.commit(base);

    const child = await snap.prepare({ parent: base.id });
    await snap.withMount(child, async (m) => {
      await rm(join(m, 'gone-file'));
      await rm(join(m, 'gone-dir'), { recursive: true });
      await rm(join(m, 'replaced'), { recursive: true });
      await mkdir(join(m, 'replaced'), { mode: 0o750 });
      await writeFile(join(m, 'replaced', 'new'), 'new');
      await writeFile(join(m, 'kept', 'added'), 'a');
    });
    await snap.commit(child);

    const entries = await listTar(await collect(differ.diff(child.id)));
    expect(entries.map((e) => [e.name, e.type, e.size])).toEqual([
      ['.wh.gone-dir', 'file', 0],
      ['.wh.gone-file', 'file', 0],
      ['kept/', 'directory', 0],
      ['kept/added', 'file', 1],
      ['replaced/', 'directory', 0],
      ['replaced/.wh..wh..opq', 'file', 0],
      ['replaced/new', 'file', 3],
    ]);
    const opq = entries.find((e) => e.name === 'replaced/.wh..wh..opq');
    expect(opq?.mode).toBe(0o750);
    // overlay's own xattrs never leak into the layer
    for (const e of entries) expect(Object.keys(e.pax ?? {}).filter((k) => k.includes('overlay'))).toEqual([]);
  });

  test('metadata, binary xattrs, hardlinks, symlinks, devices and long names survive; GNU tar agrees', async () => {
    const a = await snap.prepare();
    const up = a.upperDir;
    await mkdir(join(up, 'bin'));
    await writeFile(join(up, 'bin', 'ping'), 'ELF');
    await chown(join(up, 'bin', 'ping'), 1000, 2000);
    await chmod(join(up, 'bin', 'ping'), 0o4755);
    setAttributeSync(join(up, 'bin', 'ping'), 'security.capability', CAP_NET_RAW);
    setAttributeSync(join(up, 'bin', 'ping'), 'user.note', 'hello=world\n');
    await link(join(up, 'bin', 'ping'), join(up, 'bin', 'ping6'));
    await symlink('ping', join(up, 'bin', 'p'));
    execFileSync('mknod', ['-m', '0620', join(up, 'tty9'), 'c', '4', '9']);
    execFileSync('mkfifo', [join(up, 'pipe')]);
    const long = `${'d'.repeat(120)}/${'e'.repeat(200)}/${'f'.repeat(150)}`;
    await mkdir(join(up, long), { recursive: true });
    await writeFile(join(up, long, 'file'), 'deep');
    await utimes(join(up, 'bin', 'ping'), 1_600_000_000, 1_600_000_000);
    await snap.commit(a);

    const data = await collect(differ.diff(a.id));
    const entries = await listTar(data);
    const byName = new Map(entries.map((e) => [e.name, e]));
    const ping = byName.get('bin/ping');
    expect(ping).toMatchObject({ type: 'file', uid: 1000, gid: 2000, mode: 0o4755, mtime: 1_600_000_000 });
    expect(ping?.body.toString()).toBe('ELF');
    expect(byName.get('bin/ping6')).toMatchObject({ type: 'link', linkname: 'bin/ping', size: 0 });
    expect(byName.get('bin/p')).toMatchObject({ type: 'symlink', linkname: 'ping' });
    expect(byName.get('tty9')).toMatchObject({ type: 'character-device', mode: 0o620 });
    expect(byName.get('pipe')).toMatchObject({ type: 'fifo' });
    expect(byName.get(`${long}/file`)?.body.toString()).toBe('deep');
    // Binary xattr: tar-stream decodes PAX values as UTF-8 text, so check the raw bytes in the
    // stream (and GNU tar below).
    const key = Buffer.from(' SCHILY.xattr.security.capability=');
    const at = data.indexOf(key);
    expect(at).toBeGreaterThan(0);
    expect(data.subarray(at + key.length, at + key.length + CAP_NET_RAW.length)).toEqual(CAP_NET_RAW);

    // Deterministic: the same snapshot gives the same bytes.
    expect((await collect(differ.diff(a.id))).equals(data)).toBe(true);

    // GNU tar reads it, xattrs included.
    const tarFile = join(root, 'layer.tar');
    await writeFile(tarFile, data);
    const out = join(root, 'gnu-out');
    await mkdir(out);
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-xpf', tarFile, '-C', out]);
    expect(await readFile(join(out, long, 'file'), 'utf8')).toBe('deep');
    const getcap = execFileSync('tar', ['--xattrs', '-tvvf', tarFile], { encoding: 'utf8' });
    expect(getcap).toContain('bin/ping6 link to bin/ping');
    const { getAttributeSync } = await import('@napi-rs/xattr');
    expect(getAttributeSync(join(out, 'bin', 'ping'), 'security.capability')).toEqual(CAP_NET_RAW);
    expect(getAttributeSync(join(out, 'bin', 'ping'), 'user.note')?.toString()).toBe('hello=world\n');
  });

  test('SOURCE_DATE_EPOCH clamps later mtimes only', async () => {
    const a = await snap.prepare();
    await writeFile(join(a.upperDir, 'old'), 'o');
    await writeFile(join(a.upperDir, 'new'), 'n');
    await utimes(join(a.upperDir, 'old'), 1000, 1000);
    await snap.commit(a);
    const entries = await listTar(await collect(differ.diff(a.id, { sourceDateEpoch: 5000 })));
    expect(entries.map((e) => [e.name, e.mtime])).toEqual([['new', 5000], ['old', 1000]]);
    const unclamped = await listTar(await collect(differ.diff(a.id)));
    expect(unclamped[0]?.mtime).toBeGreaterThan(1_700_000_000);
  });

  test('entries are in byte order with parents first; an unknown snapshot is a stream error', async () => {
    const a = await snap.prepare();
    for (const d of ['a', 'a-b', 'B', 'a/z', 'a/_']) await mkdir(join(a.upperDir, d), { recursive: true });
    await writeFile(join(a.upperDir, 'a.txt'), '');
    await snap.commit(a);
    const names = (await listTar(await collect(differ.diff(a.id)))).map((e) => e.name);
    expect(names).toEqual(['B/', 'a/', 'a/_/', 'a/z/', 'a-b/', 'a.txt']);
    await expect(collect(differ.diff('f'.repeat(64)))).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
    expect(() => differ.diff('nope')).toThrow(/invalid snapshot id "nope"/);
  });

  test('destroying the stream or aborting stops the walk', async () => {
    const a = await snap.prepare();
    for (let i = 0; i < 50; i++) await writeFile(join(a.upperDir, `f${i}`), Buffer.alloc(200_000, i));
    await snap.commit(a);
    const ac = new AbortController();
    const stream = differ.diff(a.id, { signal: ac.signal });
    let bytes = 0;
    await expect((async () => {
      for await (const b of stream) {
        bytes += (b as Buffer).length;
        if (bytes > 1_000_000) ac.abort(new Error('enough'));
      }
    })()).rejects.toThrow();
    expect(bytes).toBeLessThan(10_000_000);
    expect(stream.destroyed).toBe(true);
  });
});
