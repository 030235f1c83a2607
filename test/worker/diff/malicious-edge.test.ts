/**
 * Hostile-layer edge cases beyond malicious.test.ts: whiteout spellings (`.wh..`, bare `.wh.`, the
 * opaque marker as a directory or with a body, AUFS `.wh..wh.plnk`, whiteouts that are not regular
 * files), duplicate entries, GNU long names and links, PAX global and repeated extended headers,
 * set-id modes and `security.capability`. Each is either refused with one clear line or applied the
 * way Docker 20.10 applies it (Go's archive/tar reader + moby's overlay2 unpack); the canaries
 * beside and inside the data root never change.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { getAttributeSync, listAttributesSync } from '@napi-rs/xattr';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Overlay2Applier } from '../../../src/worker/diff/applier.js';
import { Overlay2Snapshotter } from '../../../src/worker/snapshot/overlay2-snapshotter.js';
import { describeIf, haveBinary, partIf } from '../../helpers/skip.js';
import { canMount, makeTempDir, removeTempDir, whyNoMount } from '../snapshot/fixtures.js';
import { END_OF_ARCHIVE, buildTar, paxBody, rawEntry } from './tar-fixtures.js';

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

/** Every path below `dir`, relative, sorted. */
async function tree(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const n of (await readdir(join(dir, rel))).sort()) {
    const r = rel === '' ? n : `${rel}/${n}`;
    out.push(r);
    if ((await lstat(join(dir, r))).isDirectory()) out.push(...(await tree(dir, r)));
  }
  return out;
}

async function isWhiteout(p: string): Promise<boolean> {
  const st = await lstat(p);
  return st.isCharacterDevice() && st.rdev === 0;
}

/** v2 file capabilities: cap_net_bind_service (bit 10) permitted, effective flag set. */
const NET_BIND_CAP = Buffer.from([0x01, 0, 0, 0x02, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

describeIf(canMount, whyNoMount, 'malicious layers: edge cases', () => {
  let base: string;
  let root: string;
  let canary: string;
  let snap: Overlay2Snapshotter;
  let applier: Overlay2Applier;
  let before: Record<string, string>;

  beforeAll(async () => {
    base = await makeTempDir('tsbuild-evil2-');
    root = join(base, 'root');
    canary = join(base, 'canary');
    await mkdir(join(canary, 'sub'), { recursive: true });
    await writeFile(join(canary, 'file'), 'canary');
    snap = new Overlay2Snapshotter({ root });
    applier = new Overlay2Applier({ snapshotter: snap });
    before = await fingerprint(canary);
  });
  afterAll(async () => {
    await snap.close();
    await removeTempDir(base);
  });

  /** Applies the layer; returns its `diff/` directory. */
  async function applied(layer: Buffer, opts: { unprivileged?: boolean } = {}): Promise<string> {
    const r = await applier.apply(Readable.from([layer]), opts);
    expect(await fingerprint(canary)).toEqual(before);
    return snap.diffDir(r.id);
  }

  /** The layer is refused with `code`, one line naming `entry`, and leaves no snapshot. */
  async function refused(layer: Buffer, code: string, entry: string | undefined): Promise<string> {
    const snapshotsBefore = await snap.list();
    const err = await applier.apply(Readable.from([layer])).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code });
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    if (entry !== undefined) expect(msg).toContain(JSON.stringify(entry));
    expect(await snap.list()).toEqual(snapshotsBefore);
    expect(await fingerprint(canary)).toEqual(before);
    return msg;
  }

  // ── whiteout spellings ───────────────────────────────────────────────────────────────────────

  test('.wh.. (a whiteout of ".") and .wh... (of "..") are refused, at the root and below', async () => {
    for (const name of ['.wh..', '.wh...', 'sub/.wh..', 'sub/.wh...']) {
      expect(await refused(await buildTar([{ name: 'sub/', type: 'directory' }, { name }]), 'LAYER_UNSAFE_ENTRY', name)).toMatch(/names no file/);
    }
  });

  test('a bare .wh. (a whiteout of the empty name) is refused', async () => {
    for (const name of ['.wh.', 'sub/.wh.']) {
      expect(await refused(await buildTar([{ name }]), 'LAYER_UNSAFE_ENTRY', name)).toMatch(/names no file/);
    }
  });

  test('.wh..wh..opq as a directory entry makes its parent opaque and is not created', async () => {
    const diff = await applied(await buildTar([
      { name: 'd/', type: 'directory' }, { name: 'd/.wh..wh..opq/', type: 'directory', mode: 0o755 }, { name: 'd/kept', body: 'k' },
    ]));
    expect(getAttributeSync(join(diff, 'd'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(await tree(diff)).toEqual(['d', 'd/kept']);
  });

  test('entries below an opaque marker used as a directory are refused', async () => {
    const msg = await refused(await buildTar([
      { name: 'd/', type: 'directory' }, { name: 'd/.wh..wh..opq/', type: 'directory' }, { name: 'd/.wh..wh..opq/x', body: 'hidden' },
    ]), 'LAYER_UNSAFE_ENTRY', 'd/.wh..wh..opq/x');
    expect(msg).toMatch(/whiteout/);
  });

  test('.wh..wh..opq with a body: the body is skipped, the parent is opaque, the next entry is intact', async () => {
    const diff = await applied(await buildTar([
      { name: 'd/', type: 'directory' }, { name: 'd/.wh..wh..opq', body: 'x'.repeat(1500) }, { name: 'd/after', body: 'after' },
    ]));
    expect(getAttributeSync(join(diff, 'd'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(await tree(diff)).toEqual(['d', 'd/after']);
    expect(await readFile(join(diff, 'd', 'after'), 'utf8')).toBe('after');
  });

  test('AUFS .wh..wh.plnk: hardlinks into it become files with its content; no AUFS metadata is left', async () => {
    const diff = await applied(await buildTar([
      { name: '.wh..wh.plnk/', type: 'directory', mode: 0o700 },
      { name: '.wh..wh.plnk/1234.5678', body: 'shared data', mode: 0o755 },
      { name: '.wh..wh.plnk/nested/', type: 'directory' },
      { name: '.wh..wh.aufs', body: '' },
      { name: '.wh..wh.orph/', type: 'directory' },
      { name: '.wh..wh.orph/junk', body: 'junk' },
      { name: 'usr/bin/', type: 'directory' },
      { name: 'usr/bin/a', type: 'link', linkname: '.wh..wh.plnk/1234.5678' },
      { name: 'usr/bin/b', type: 'link', linkname: '.wh..wh.plnk/1234.5678' },
    ]));
    expect(await tree(diff)).toEqual(['usr', 'usr/bin', 'usr/bin/a', 'usr/bin/b']);
    for (const n of ['a', 'b']) {
      const p = join(diff, 'usr', 'bin', n);
      expect(await readFile(p, 'utf8')).toBe('shared data');
      expect((await lstat(p)).mode & 0o7777).toBe(0o755);
    }
  });

  test('a hardlink to an AUFS link file the layer does not have is refused', async () => {
    await refused(await buildTar([{ name: 'a', type: 'link', linkname: '.wh..wh.plnk/nope' }]), 'LAYER_UNSAFE_ENTRY', 'a');
  });

  test('whiteouts that are not regular files (symlink, directory, hardlink, FIFO) are whiteouts, nothing more', async () => {
    const diff = await applied(await buildTar([
      { name: '.wh.s', type: 'symlink', linkname: join(canary, 'file') },
      { name: '.wh.d/', type: 'directory', mode: 0o777 },
      { name: '.wh.h', type: 'link', linkname: 'does/not/exist' },
      { name: '.wh.p', type: 'fifo' },
    ]));
    expect(await tree(diff)).toEqual(['d', 'h', 'p', 's']);
    for (const n of ['d', 'h', 'p', 's']) expect(await isWhiteout(join(diff, n))).toBe(true);
  });

  test('entries inside a directory named like a whiteout are refused', async () => {
    for (const [dir, child] of [['.wh.d/', '.wh.d/f'], ['a/.wh.x/', 'a/.wh.x/y'], ['a/.wh..wh.plnk/', 'a/.wh..wh.plnk/1.2']] as const) {
      await refused(await buildTar([{ name: dir, type: 'directory' }, { name: child, body: 'x' }]), 'LAYER_UNSAFE_ENTRY', child);
    }
  });

  // ── duplicates ───────────────────────────────────────────────────────────────────────────────

  test('duplicate regular files: the last one wins, earlier hardlinks keep the earlier content', async () => {
    const diff = await applied(await buildTar([
      { name: 'f', body: 'one', mode: 0o644 },
      { name: 'g', type: 'link', linkname: 'f' },
      { name: 'f', body: 'two', mode: 0o600, mtime: new Date(2_000_000_000_000) },
    ]));
    expect(await readFile(join(diff, 'f'), 'utf8')).toBe('two');
    const st = await lstat(join(diff, 'f'));
    expect(st.mode & 0o7777).toBe(0o600);
    expect(st.mtimeMs).toBe(2_000_000_000_000);
    expect(await readFile(join(diff, 'g'), 'utf8')).toBe('one');
  });

  test('duplicate directory entries: the last one decides mode and mtime', async () => {
    const diff = await applied(await buildTar([
      { name: 'd/', type: 'directory', mode: 0o700, mtime: new Date(1_100_000_000_000) },
      { name: 'd/x', body: 'x' },
      { name: 'd/', type: 'directory', mode: 0o751, mtime: new Date(1_200_000_000_000) },
    ]));
    const st = await lstat(join(diff, 'd'));
    expect(st.mode & 0o7777).toBe(0o751);
    expect(st.mtimeMs).toBe(1_200_000_000_000);
    expect(await readFile(join(diff, 'd', 'x'), 'utf8')).toBe('x');
  });

  test('a directory replaced by a file and a file by a directory', async () => {
    const diff = await applied(await buildTar([
      { name: 'a/', type: 'directory' }, { name: 'a/child', body: 'c' }, { name: 'a', body: 'now a file' },
      { name: 'b', body: 'file' }, { name: 'b/', type: 'directory', mode: 0o711 },
    ]));
    expect(await readFile(join(diff, 'a'), 'utf8')).toBe('now a file');
    const b = await lstat(join(diff, 'b'));
    expect(b.isDirectory() && (b.mode & 0o7777) === 0o711).toBe(true);
  });

  // ── GNU long names and links, PAX headers (Go's archive/tar decides) ─────────────────────────

  test('GNU K long link names for symlinks and hardlinks (with L long names)', async () => {
    const longDir = `${'d'.repeat(90)}/${'e'.repeat(90)}`;
    const longFile = `${longDir}/target-file`;
    const longTarget = `/${'t'.repeat(200)}/x`;
    const layer = Buffer.concat([
      rawEntry({ name: `${'d'.repeat(90)}/`, typeflag: '5', mode: 0o755 }),
      rawEntry({ name: '././@LongLink', typeflag: 'L' }, `${longDir}/\0`), rawEntry({ name: 'trunc-dir', typeflag: '5', mode: 0o755 }),
      rawEntry({ name: '././@LongLink', typeflag: 'L' }, `${longFile}\0`), rawEntry({ name: 'trunc-file', typeflag: '0' }, 'content'),
      rawEntry({ name: '././@LongLink', typeflag: 'K' }, `${longTarget}\0`), rawEntry({ name: 'sym', typeflag: '2', linkname: 'short' }),
      rawEntry({ name: '././@LongLink', typeflag: 'K' }, `${longFile}\0`), rawEntry({ name: 'hard', typeflag: '1', linkname: 'short' }),
      END_OF_ARCHIVE,
    ]);
    const diff = await applied(layer);
    expect(await readlink(join(diff, 'sym'))).toBe(longTarget);
    expect(await readFile(join(diff, 'hard'), 'utf8')).toBe('content');
    expect((await lstat(join(diff, 'hard'))).ino).toBe((await lstat(join(diff, longFile))).ino);
  });

  test('a GNU K long link climbing out of the layer is refused', async () => {
    const escape = `../../../../canary/${'f'.repeat(100)}`;
    await refused(Buffer.concat([
      rawEntry({ name: '././@LongLink', typeflag: 'K' }, `${escape}\0`), rawEntry({ name: 'hard', typeflag: '1', linkname: 'x' }), END_OF_ARCHIVE,
    ]), 'LAYER_UNSAFE_ENTRY', 'hard');
  });

  test('GNU long names win over a PAX path, in either order (as in Go)', async () => {
    const layer = Buffer.concat([
      rawEntry({ name: 'PaxHeaders/one', typeflag: 'x' }, paxBody({ path: 'pax-one' })),
      rawEntry({ name: '././@LongLink', typeflag: 'L' }, 'gnu-one\0'),
      rawEntry({ name: 'short-one', typeflag: '0' }, '1'),
      rawEntry({ name: '././@LongLink', typeflag: 'L' }, 'gnu-two\0'),
      rawEntry({ name: 'PaxHeaders/two', typeflag: 'x' }, paxBody({ path: 'pax-two' })),
      rawEntry({ name: 'short-two', typeflag: '0' }, '2'),
      END_OF_ARCHIVE,
    ]);
    expect(await tree(await applied(layer))).toEqual(['gnu-one', 'gnu-two']);
  });

  test('a second PAX extended header replaces the first (as in Go); an empty PAX value keeps the header field', async () => {
    const layer = Buffer.concat([
      rawEntry({ name: 'PaxHeaders/f', typeflag: 'x' }, paxBody({ uid: '4242', 'SCHILY.xattr.user.first': 'a' })),
      rawEntry({ name: 'PaxHeaders/f', typeflag: 'x' }, paxBody({ 'SCHILY.xattr.user.second': 'b' })),
      rawEntry({ name: 'f', typeflag: '0', uid: 7 }, 'f'),
      rawEntry({ name: 'PaxHeaders/g', typeflag: 'x' }, paxBody({ path: '', uid: '' })),
      rawEntry({ name: 'g', typeflag: '0', uid: 8 }, 'g'),
      END_OF_ARCHIVE,
    ]);
    const diff = await applied(layer);
    expect((await lstat(join(diff, 'f'))).uid).toBe(7);
    expect(listAttributesSync(join(diff, 'f'))).toEqual(['user.second']);
    expect((await lstat(join(diff, 'g'))).uid).toBe(8);
  });

  test('PAX global headers are ignored, as Docker ignores them, and end a pending extended header', async () => {
    const layer = Buffer.concat([
      rawEntry({ name: 'pax_global_header', typeflag: 'g' }, paxBody({ path: 'hijacked', uid: '4242', mtime: '1', 'SCHILY.xattr.user.g': 'global' })),
      rawEntry({ name: 'a', typeflag: '0', uid: 5, mtime: 1_500_000_000 }, 'a'),
      rawEntry({ name: 'PaxHeaders/b', typeflag: 'x' }, paxBody({ path: 'from-x' })),
      rawEntry({ name: 'pax_global_header', typeflag: 'g' }, paxBody({ comment: 'second global' })),
      rawEntry({ name: 'b', typeflag: '0' }, 'b'),
      END_OF_ARCHIVE,
    ]);
    const diff = await applied(layer);
    expect(await tree(diff)).toEqual(['a', 'b']);
    const a = await lstat(join(diff, 'a'));
    expect([a.uid, a.mtimeMs]).toEqual([5, 1_500_000_000_000]);
    expect(listAttributesSync(join(diff, 'a'))).toEqual([]);
  });

  test('a malformed PAX global header is still refused', async () => {
    await refused(Buffer.concat([
      rawEntry({ name: 'pax_global_header', typeflag: 'g' }, '99 path=x\n'), rawEntry({ name: 'a', typeflag: '0' }, 'a'), END_OF_ARCHIVE,
    ]), 'LAYER_MALFORMED', undefined);
  });

  // ── set-id bits, capabilities ────────────────────────────────────────────────────────────────

  test('setuid/setgid files and setgid directories keep their exact mode and owner', async () => {
    const layer = await buildTar([
      { name: 'bin/', type: 'directory', mode: 0o755 },
      { name: 'bin/su', body: 'su', mode: 0o4755, uid: 0, gid: 0 },
      { name: 'bin/crontab', body: 'crontab', mode: 0o2755, uid: 0, gid: 101 },
      { name: 'bin/both', body: 'both', mode: 0o6750, uid: 1000, gid: 1000 },
      { name: 'srv/', type: 'directory', mode: 0o755 },
      { name: 'srv/shared/', type: 'directory', mode: 0o2775, uid: 1000, gid: 2000 },
      { name: 'srv/shared/sub/', type: 'directory', mode: 0o2770, uid: 1001, gid: 2001 },
      { name: 'srv/shared/sub/f', body: 'f', mode: 0o640, uid: 1002, gid: 2002 },
      { name: 'tmp/', type: 'directory', mode: 0o1777 },
    ]);
    const diff = await applied(layer);
    const want: Record<string, [number, number, number]> = {
      'bin/su': [0o4755, 0, 0], 'bin/crontab': [0o2755, 0, 101], 'bin/both': [0o6750, 1000, 1000],
      'srv/shared': [0o2775, 1000, 2000], 'srv/shared/sub': [0o2770, 1001, 2001], 'srv/shared/sub/f': [0o640, 1002, 2002], tmp: [0o1777, 0, 0],
    };
    for (const [p, [mode, uid, gid]] of Object.entries(want)) {
      const st = await lstat(join(diff, p));
      expect({ p, mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid }).toEqual({ p, mode: mode.toString(8), uid, gid });
    }
  });

  test('without chown (unprivileged), set-id bits are dropped where the owner cannot be what the entry says', async () => {
    const me = process.getuid?.() ?? 0;
    const myGroup = process.getgid?.() ?? 0;
    const layer = await buildTar([
      { name: 'setuid-other', body: 'x', mode: 0o4755, uid: me + 1000, gid: myGroup },
      { name: 'setgid-other', body: 'x', mode: 0o2755, uid: me, gid: myGroup + 1000 },
      { name: 'setgid-dir/', type: 'directory', mode: 0o2775, uid: me, gid: myGroup + 1000 },
      { name: 'setuid-mine', body: 'x', mode: 0o4750, uid: me, gid: myGroup },
    ]);
    const diff = await applied(layer, { unprivileged: true });
    const modes: Record<string, string> = {};
    for (const n of ['setuid-other', 'setgid-other', 'setgid-dir', 'setuid-mine']) modes[n] = ((await lstat(join(diff, n))).mode & 0o7777).toString(8);
    expect(modes).toEqual({ 'setuid-other': '755', 'setgid-other': '755', 'setgid-dir': '775', 'setuid-mine': '4750' });
  });

  test('security.capability is kept exactly (also with set-id bits and a non-root owner), as Docker keeps it', async () => {
    const layer = Buffer.concat([
      rawEntry({ name: 'bin/', typeflag: '5', mode: 0o755 }),
      rawEntry({ name: 'PaxHeaders/ping', typeflag: 'x' }, paxBody({ 'SCHILY.xattr.security.capability': NET_BIND_CAP })),
      rawEntry({ name: 'bin/ping', typeflag: '0', mode: 0o755 }, 'ping'),
      rawEntry({ name: 'PaxHeaders/srv', typeflag: 'x' }, paxBody({ 'SCHILY.xattr.security.capability': NET_BIND_CAP })),
      rawEntry({ name: 'bin/srv', typeflag: '0', mode: 0o4750, uid: 1000, gid: 1000 }, 'srv'),
      END_OF_ARCHIVE,
    ]);
    const diff = await applied(layer);
    for (const n of ['ping', 'srv']) expect(getAttributeSync(join(diff, 'bin', n), 'security.capability')).toEqual(NET_BIND_CAP);
    const srv = await lstat(join(diff, 'bin', 'srv'));
    expect([(srv.mode & 0o7777).toString(8), srv.uid, srv.gid]).toEqual(['4750', 1000, 1000]);
    if (partIf(haveBinary('getcap'), 'needs getcap (libcap2-bin)', 'getcap check')) expect(execFileSync('getcap', [join(diff, 'bin', 'ping')], { encoding: 'utf8' })).toMatch(/cap_net_bind_service[=+]ep/);
  });
});
