/**
 * Hostile layers. Each tarball is built here (tar-stream, or raw blocks for what tar-stream will
 * not write) and applied next to canary directories; after every case the canaries are unchanged,
 * rejected layers leave no snapshot, and contained ones wrote only inside their snapshot.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { listAttributesSync } from '@napi-rs/xattr';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Overlay2Applier } from '../../../src/worker/diff/applier.js';
import { Overlay2Snapshotter } from '../../../src/worker/snapshot/overlay2-snapshotter.js';
import { overlayEntries } from '../../helpers/data-root-disk.js';
import { describeIf } from '../../helpers/skip.js';
import { canMount, makeTempDir, removeTempDir, whyNoMount } from '../snapshot/fixtures.js';
import { buildTar } from './tar-fixtures.js';

/** A raw ustar header block (for entry types and fields tar-stream does not write). */
function rawBlock(fields: { name: string; typeflag: string; size?: number; sizeField?: Buffer; mode?: number }): Buffer {
  const b = Buffer.alloc(512);
  b.write(fields.name.slice(0, 100), 0, 'latin1');
  b.write(`${(fields.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 'latin1');
  b.write('0000000\0', 108, 'latin1');
  b.write('0000000\0', 116, 'latin1');
  if (fields.sizeField) fields.sizeField.copy(b, 124);
  else b.write(`${(fields.size ?? 0).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  b.write('00000000000\0', 136, 'latin1');
  b.fill(0x20, 148, 156);
  b.write(fields.typeflag, 156, 'latin1');
  b.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

function pad(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** Path → type, mode, size, content hash / link target: everything a write outside could change. */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(p: string): Promise<void> {
    const st = await lstat(p);
    let what = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs}`;
    if (st.isFile()) what += ` ${createHash('sha256').update(await readFile(p)).digest('hex')}`;
    if (st.isSymbolicLink()) what += ` -> ${await readlink(p)}`;
    out[p] = what;
    if (st.isDirectory()) for (const n of (await readdir(p)).sort()) await walk(join(p, n));
  }
  await walk(dir);
  return out;
}

interface Case {
  readonly name: string;
  readonly tar: () => Promise<Buffer>;
  /** Rejected with this code, and the message names this entry; or contained (applied) and checked. */
  readonly expect: { readonly code: string; readonly entry?: string } | { readonly contained: (diff: string) => Promise<void> };
  readonly unprivileged?: boolean;
}

describeIf(canMount, whyNoMount, 'malicious layers', () => {
  let base: string;
  let root: string;
  let canary: string;
  let innerCanary: string;
  let snap: Overlay2Snapshotter;
  let applier: Overlay2Applier;
  let before: Record<string, string>;

  beforeAll(async () => {
    base = await makeTempDir('tsbuild-evil-');
    root = join(base, 'root');
    canary = join(base, 'canary');
    innerCanary = join(root, 'canary');
    for (const c of [canary, innerCanary]) {
      await mkdir(join(c, 'sub'), { recursive: true });
      await writeFile(join(c, 'file'), 'canary');
    }
    snap = new Overlay2Snapshotter({ root });
    applier = new Overlay2Applier({ snapshotter: snap });
    before = { ...(await fingerprint(canary)), ...(await fingerprint(innerCanary)) };
  });
  afterAll(async () => {
    await snap.close();
    await removeTempDir(base);
  });

  const up4 = '../../../..'; // diff → <id> → overlay2 → root → base
  const cases: Case[] = [
    { name: 'file path with ..', tar: () => buildTar([{ name: `${up4}/canary/pwned`, body: 'x' }]), expect: { code: 'LAYER_UNSAFE_ENTRY', entry: `${up4}/canary/pwned` } },
    { name: '.. in the middle of a path', tar: () => buildTar([{ name: `a/../../${up4}/canary/pwned`, body: 'x' }]), expect: { code: 'LAYER_UNSAFE_ENTRY' } },
    { name: 'directory entry with ..', tar: () => buildTar([{ name: '../../../canary/newdir/', type: 'directory' }]), expect: { code: 'LAYER_UNSAFE_ENTRY' } },
    {
      name: 'absolute path is taken relative to the layer root',
      tar: () => buildTar([{ name: `${canary}/pwned`, body: 'x' }]),
      expect: { contained: async (diff) => expect(await readFile(join(diff, canary, 'pwned'), 'utf8')).toBe('x') },
    },
    {
      name: 'write through a relative symlink pointing outside',
      tar: () => buildTar([{ name: 'evil', type: 'symlink', linkname: `${up4}/canary` }, { name: 'evil/pwned', body: 'x' }]),
      expect: { code: 'LAYER_UNSAFE_ENTRY', entry: 'evil/pwned' },
    },
    {
      name: 'write through an absolute symlink',
      tar: () => buildTar([{ name: 'evil', type: 'symlink', linkname: canary }, { name: 'evil/sub/pwned', body: 'x' }]),
      expect: { code: 'LAYER_UNSAFE_ENTRY', entry: 'evil/sub/pwned' },
    },
    {
      name: 'symlink nested in a directory',
      tar: () => buildTar([{ name: 'd/', type: 'directory' }, { name: 'd/s', type: 'symlink', linkname: `../${up4}/canary` }, { name: 'd/s/pwned', body: 'x' }]),
      expect: { code: 'LAYER_UNSAFE_ENTRY' },
    },
    {
      name: 'directory replaced by a symlink, then written into',
      tar: () => buildTar([
        { name: 'd/', type: 'directory' }, { name: 'd/ok', body: 'ok' },
        { name: 'd', type: 'symlink', linkname: canary }, { name: 'd/pwned', body: 'x' },
      ]),
      expect: { code: 'LAYER_UNSAFE_ENTRY', entry: 'd/pwned' },
    },
    {
      name: 'symlink to an outside file, then a file of the same name',
      tar: () => buildTar([{ name: 'f', type: 'symlink', linkname: join(canary, 'file') }, { name: 'f', body: 'pwned' }]),
      expect: { contained: async (diff) => {
        expect((await lstat(join(diff, 'f'))).isFile()).toBe(true);
        expect(await readFile(join(diff, 'f'), 'utf8')).toBe('pwned');
      } },
    },
    {
      name: 'symlink to an outside directory, then a directory of the same name',
      tar: () => buildTar([{ name: 'd', type: 'symlink', linkname: canary }, { name: 'd/', type: 'directory', mode: 0o777 }]),
      expect: { contained: async (diff) => expect((await lstat(join(diff, 'd'))).isDirectory()).toBe(true) },
    },
    { name: 'hardlink with ..', tar: () => buildTar([{ name: 'h', type: 'link', linkname: `${up4}/canary/file` }]), expect: { code: 'LAYER_UNSAFE_ENTRY', entry: 'h' } },
    { name: 'hardlink to an absolute outside path', tar: () => buildTar([{ name: 'h', type: 'link', linkname: join(canary, 'file') }]), expect: { code: 'LAYER_UNSAFE_ENTRY' } },
    {
      name: 'hardlink through a symlink',
      tar: () => buildTar([{ name: 's', type: 'symlink', linkname: canary }, { name: 'h', type: 'link', linkname: 's/file' }]),
      expect: { code: 'LAYER_UNSAFE_ENTRY', entry: 'h' },
    },
    {
      name: 'hardlink target whose directory became a symlink',
      tar: () => buildTar([
        { name: 'd/', type: 'directory' }, { name: 'd/file', body: 'in' },
        { name: 'd', type: 'symlink', linkname: canary }, { name: 'h', type: 'link', linkname: 'd/file' },
      ]),
      expect: { code: 'LAYER_UNSAFE_ENTRY', entry: 'h' },
    },
    { name: 'hardlink to a directory', tar: () => buildTar([{ name: 'd/', type: 'directory' }, { name: 'h', type: 'link', linkname: 'd' }]), expect: { code: 'LAYER_UNSAFE_ENTRY' } },
    {
      name: 'character device when unprivileged',
      tar: () => buildTar([{ name: 'mem', type: 'character-device', devmajor: 1, devminor: 1 }]),
      expect: { code: 'LAYER_UNSAFE_ENTRY', entry: 'mem' },
      unprivileged: true,
    },
    {
      name: 'block device when unprivileged',
      tar: () => buildTar([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }]),
      expect: { code: 'LAYER_UNSAFE_ENTRY', entry: 'sda' },
      unprivileged: true,
    },
    {
      name: 'PAX path with ..',
      tar: () => buildTar([{ name: 'innocent', body: 'x', pax: { path: `${up4}/canary/pwned` } }]),
      expect: { code: 'LAYER_UNSAFE_ENTRY', entry: `${up4}/canary/pwned` },
    },
    {
      name: 'PAX linkpath escaping',
      tar: () => buildTar([{ name: 'h', type: 'link', linkname: 'x', pax: { linkpath: `${up4}/canary/file` } }]),
      expect: { code: 'LAYER_UNSAFE_ENTRY' },
    },
    {
      name: 'GNU long name with ..',
      tar: async () => {
        const long = Buffer.from(`${up4}/canary/${'p'.repeat(120)}\0`);
        const body = Buffer.from('x');
        return Buffer.concat([
          rawBlock({ name: '././@LongLink', typeflag: 'L', size: long.length }), pad(long),
          rawBlock({ name: 'short', typeflag: '0', size: 1 }), pad(body), Buffer.alloc(1024),
        ]);
      },
      expect: { code: 'LAYER_UNSAFE_ENTRY' },
    },
    { name: 'whiteout of ..', tar: () => buildTar([{ name: 'sub/.wh...' }]), expect: { code: 'LAYER_UNSAFE_ENTRY' } },
    { name: 'opaque marker outside', tar: () => buildTar([{ name: `${up4}/canary/.wh..wh..opq` }]), expect: { code: 'LAYER_UNSAFE_ENTRY' } },
    { name: 'whiteout written through a symlink', tar: () => buildTar([{ name: 's', type: 'symlink', linkname: canary }, { name: 's/.wh.file' }]), expect: { code: 'LAYER_UNSAFE_ENTRY' } },
    {
      name: 'forged overlay xattrs are dropped',
      tar: () => buildTar([
        { name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc', 'SCHILY.xattr.trusted.overlay.opaque': 'y' } },
        { name: 'd/f', body: 'x', pax: { 'SCHILY.xattr.trusted.overlay.metacopy': '', 'SCHILY.xattr.user.ok': 'fine' } },
      ]),
      expect: { contained: async (diff) => {
        expect(listAttributesSync(join(diff, 'd'))).toEqual([]);
        expect(listAttributesSync(join(diff, 'd', 'f'))).toEqual(['user.ok']);
      } },
    },
    { name: 'gzip-wrapped escape', tar: async () => gzipSync(await buildTar([{ name: `${up4}/canary/pwned`, body: 'x' }])), expect: { code: 'LAYER_UNSAFE_ENTRY' } },
    {
      name: 'corrupted header checksum',
      tar: async () => {
        const t = await buildTar([{ name: 'ok', body: 'x' }, { name: 'second', body: 'y' }]);
        t[1024 + 3] = 0x41; // second header's name
        return t;
      },
      expect: { code: 'LAYER_MALFORMED' },
    },
    {
      name: 'oversized PAX header',
      tar: () => buildTar([{ name: 'big', body: 'x', pax: { comment: 'A'.repeat(2 * 1024 * 1024) } }]),
      expect: { code: 'LAYER_MALFORMED' },
    },
    {
      name: 'truncated in the middle of a body',
      tar: async () => (await buildTar([{ name: 'f', body: 'z'.repeat(5000) }])).subarray(0, 512 + 3000),
      expect: { code: 'LAYER_MALFORMED', entry: 'f' },
    },
    {
      name: 'negative base-256 size',
      tar: async () => Buffer.concat([rawBlock({ name: 'neg', typeflag: '0', sizeField: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]) }), Buffer.alloc(1024)]),
      expect: { code: 'LAYER_MALFORMED' },
    },
    {
      name: 'size field that is not a number',
      tar: async () => Buffer.concat([rawBlock({ name: 'nan', typeflag: '0', sizeField: Buffer.from('99999999999x') }), Buffer.alloc(1024)]),
      expect: { code: 'LAYER_MALFORMED' },
    },
    { name: 'NUL byte in a PAX path', tar: () => buildTar([{ name: 'n', body: 'x', pax: { path: 'a\0b' } }]), expect: { code: 'LAYER_MALFORMED' } },
    {
      name: 'GNU sparse file',
      tar: async () => Buffer.concat([rawBlock({ name: 'sparse', typeflag: 'S' }), Buffer.alloc(1024)]),
      expect: { code: 'LAYER_UNSUPPORTED', entry: 'sparse' },
    },
    { name: 'not a tar at all', tar: async () => Buffer.from('<html>not found</html>'.padEnd(2000, ' ')), expect: { code: 'LAYER_MALFORMED' } },
    // zstd layers are applied (issue 14); a broken frame is malformed like broken gzip.
    { name: 'zstd layer with a broken frame', tar: async () => Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]), expect: { code: 'LAYER_MALFORMED' } },
    { name: 'xz layer', tar: async () => Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]), expect: { code: 'LAYER_UNSUPPORTED' } },
  ];

  test('the suite has at least 15 hostile layers', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  test.each(cases)('$name', async (c) => {
    const layer = await c.tar();
    const snapshotsBefore = await snap.list();
    const links = async (): Promise<string[]> => (await overlayEntries(root)).filter((n) => n.startsWith('l/'));
    const linksBefore = await links();
    const run = applier.apply(Readable.from([layer]), c.unprivileged ? { unprivileged: true } : {});
    if ('code' in c.expect) {
      const err = await run.then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: c.expect.code });
      const msg = (err as Error).message;
      expect(msg).not.toMatch(/\n\s+at /); // one line, no stack
      if (c.expect.entry !== undefined) expect(msg).toContain(JSON.stringify(c.expect.entry));
      expect(await snap.list()).toEqual(snapshotsBefore);
      expect(await links()).toEqual(linksBefore);
      expect((await readdir(join(root, 'overlay2'))).filter((n) => n.startsWith('.tmp') || n.startsWith('.trash'))).toEqual([]);
    } else {
      const applied = await run;
      await c.expect.contained(snap.diffDir(applied.id));
    }
    expect({ ...(await fingerprint(canary)), ...(await fingerprint(innerCanary)) }).toEqual(before);
  });
});
