import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chownSync, lstatSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tar from 'tar-stream';
import { detectArchive } from '../../../src/worker/fileop/archive-detect.js';
import { copy } from '../../../src/worker/fileop/copy.js';
import { parseChownSpec } from '../../../src/worker/fileop/owner.js';
import type { CopyAction } from '../../../src/worker/fileop/types.js';
import { describeIf, haveBinary, isRoot, testIf } from '../../helpers/skip.js';
import { canaryIntact, listTree, makeRoots, modeOf, read, writeTree, type Roots } from './fixture.js';

/** ADD from the context, as the Dockerfile frontend emits it. */
function dockerAdd(src: string, dest: string, extra: CopyAction = {}): CopyAction {
  return {
    src,
    dest,
    followSymlink: true,
    dirCopyContents: true,
    createDestPath: true,
    allowWildcard: true,
    attemptUnpackDockerCompatibility: true,
    mode: -1,
    timestamp: -1,
    ...extra,
  };
}

let r: Roots;
beforeEach(() => {
  r = makeRoots();
});
afterEach(() => {
  expect(canaryIntact(r)).toBe(true);
  r.cleanup();
});

const run = (a: CopyAction) => copy(a, { srcRoot: r.src, destRoot: r.dest });

/** Makes src/<name> a tar of a small tree built with GNU tar, then compressed with `compressor`. */
function makeArchive(name: string, compressor: string | undefined): void {
  const stage = join(r.base, 'stage');
  writeTree(stage, { 'pkg/bin/tool': '#!/bin/sh\necho hi\n', 'pkg/README': 'readme', 'pkg/link': { link: 'README' } });
  execFileSync('chmod', ['0755', join(stage, 'pkg/bin/tool')]);
  chownSync(join(stage, 'pkg/README'), 1000, 1000);
  const tarPath = join(r.base, 'out.tar');
  execFileSync('tar', ['-C', stage, '--numeric-owner', '-cf', tarPath, 'pkg']);
  if (compressor) {
    execFileSync(compressor, ['-q', tarPath]);
    const ext = { gzip: '.gz', bzip2: '.bz2', xz: '.xz', zstd: '.zst' }[compressor] as string;
    execFileSync('rm', ['-f', tarPath]);
    renameSync(tarPath + ext, join(r.src, name));
  } else {
    renameSync(tarPath, join(r.src, name));
  }
}

/** Builds a tar from explicit headers (for archives GNU tar would refuse to make). */
async function craftTar(path: string, entries: readonly { header: tar.Header | Partial<tar.Header> & { name: string }; body?: string }[]): Promise<void> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) pack.entry(e.header, e.body ?? '');
  pack.finalize();
  await done;
  writeFileSync(path, Buffer.concat(chunks));
}

const EXPECTED = ['d app', 'd app/pkg', 'f app/pkg/README', 'd app/pkg/bin', 'f app/pkg/bin/tool', 'l app/pkg/link -> README'];

describe('ADD: local archives are unpacked', () => {
  const cases: readonly [string, string | undefined][] = [
    ['plain', undefined],
    ['gzip', 'gzip'],
    ['bzip2', 'bzip2'],
    ['xz', 'xz'],
    ['zstd', 'zstd'],
  ];
  for (const [label, compressor] of cases) {
    const ok = compressor === undefined || haveBinary(compressor);
    testIf(ok, `${compressor ?? ''} is not installed`, `${label} tar (detected by content, not by name)`, async () => {
      makeArchive('archive.bin', compressor);
      expect(await detectArchive(join(r.src, 'archive.bin'))).toBe(compressor ?? 'none');
      const res = await run(dockerAdd('archive.bin', '/app'));
      expect(res.unpacked).toEqual(['/archive.bin']);
      expect(listTree(r.dest)).toEqual(EXPECTED);
      expect(read(r.dest, 'app/pkg/bin/tool')).toContain('echo hi');
      expect(modeOf(r.dest, 'app/pkg/bin/tool')).toBe(0o755);
      expect(lstatSync(join(r.dest, 'app/pkg/README')).uid).toBe(1000);
    });
  }

  test('archives merge into an existing directory', async () => {
    makeArchive('a.tar', undefined);
    writeTree(r.dest, { 'app/pkg/existing': 'e', 'app/other': 'o' });
    await run(dockerAdd('a.tar', '/app/'));
    expect(listTree(r.dest)).toEqual(['d app', 'f app/other', 'd app/pkg', 'f app/pkg/README', 'd app/pkg/bin', 'f app/pkg/bin/tool', 'f app/pkg/existing', 'l app/pkg/link -> README']);
  });

  test('--unpack=false copies the archive as a file', async () => {
    makeArchive('a.tar.gz', 'gzip');
    // As the frontend encodes it: the flag folded into attemptUnpack, unpackSet/unpack informational.
    await run(dockerAdd('a.tar.gz', '/app/', { attemptUnpackDockerCompatibility: false, unpackSet: true, unpack: false }));
    expect(listTree(r.dest)).toEqual(['d app', 'f app/a.tar.gz']);
  });

  test('COPY (no unpack) of an archive copies the file', async () => {
    makeArchive('a.tar', undefined);
    await run(dockerAdd('a.tar', '/app/', { attemptUnpackDockerCompatibility: false }));
    expect(listTree(r.dest)).toEqual(['d app', 'f app/a.tar']);
  });

  test('a file named like an archive but not one is copied as a file', async () => {
    writeTree(r.src, { 'notes.tar.gz': 'just text', 'BZh-looks-like-bzip2': 'BZh91AY&SY but not really' });
    await run(dockerAdd('notes.tar.gz', '/n/'));
    await run(dockerAdd('BZh-looks-like-bzip2', '/n/'));
    expect(listTree(r.dest)).toEqual(['d n', 'f n/BZh-looks-like-bzip2', 'f n/notes.tar.gz']);
  });

  test('--chown overrides the owners recorded in the archive', async () => {
    makeArchive('a.tar', undefined);
    await run(dockerAdd('a.tar', '/app', { owner: parseChownSpec('7:8') }));
    for (const p of ['app/pkg', 'app/pkg/README', 'app/pkg/link']) {
      const st = lstatSync(join(r.dest, p));
      expect(`${st.uid}:${st.gid}`).toBe('7:8');
    }
  });

  test('whiteout entries are ignored', async () => {
    await craftTar(join(r.src, 'wh.tar'), [
      { header: { name: 'dir/', type: 'directory', mode: 0o755 } },
      { header: { name: 'dir/.wh.gone', type: 'file', mode: 0o644 } },
      { header: { name: 'dir/.wh..wh..opq', type: 'file', mode: 0o644 } },
      { header: { name: 'dir/kept', type: 'file', mode: 0o644 }, body: 'k' },
    ]);
    writeTree(r.dest, { 'x/dir/gone': 'still here' });
    await run(dockerAdd('wh.tar', '/x'));
    expect(listTree(r.dest)).toEqual(['d x', 'd x/dir', 'f x/dir/gone', 'f x/dir/kept']);
  });

  test('entry mtimes and hardlinks are restored', async () => {
    const mtime = new Date('2005-05-05T05:05:05Z');
    await craftTar(join(r.src, 'h.tar'), [
      { header: { name: 'f', type: 'file', mode: 0o600, mtime }, body: 'data' },
      { header: { name: 'g', type: 'link', linkname: 'f', mode: 0o600, mtime } },
      { header: { name: 'd/', type: 'directory', mode: 0o700, mtime } },
      { header: { name: 'd/inner', type: 'file', mode: 0o644 }, body: 'i' },
    ]);
    await run(dockerAdd('h.tar', '/h'));
    expect(lstatSync(join(r.dest, 'h/f')).ino).toBe(lstatSync(join(r.dest, 'h/g')).ino);
    expect(lstatSync(join(r.dest, 'h/f')).mtime.toISOString()).toBe(mtime.toISOString());
    expect(lstatSync(join(r.dest, 'h/d')).mtime.toISOString()).toBe(mtime.toISOString());
    expect(modeOf(r.dest, 'h/d')).toBe(0o700);
  });
});

describe('ADD: archives cannot write outside the destination', () => {
  test('a ../ entry is refused with a clear error', async () => {
    await craftTar(join(r.src, 'evil.tar'), [{ header: { name: '../../canary/pwned', type: 'file', mode: 0o644 }, body: 'x' }]);
    await expect(run(dockerAdd('evil.tar', '/x'))).rejects.toMatchObject({
      code: 'FILEOP_ARCHIVE_ESCAPE',
      message: 'archive /evil.tar: entry "../../canary/pwned" is outside the extraction root',
    });
  });

  test('absolute entry names land inside the destination', async () => {
    await craftTar(join(r.src, 'abs.tar'), [{ header: { name: join(r.canary, 'abs'), type: 'file', mode: 0o644 }, body: 'x' }]);
    await run(dockerAdd('abs.tar', '/x'));
    expect(read(r.dest, join('x', r.canary, 'abs'))).toBe('x');
  });

  test('a symlink planted by the archive is not followed out of it by later entries', async () => {
    await craftTar(join(r.src, 'plant.tar'), [
      { header: { name: 'escape', type: 'symlink', linkname: r.canary } },
      { header: { name: 'escape/pwned', type: 'file', mode: 0o644 }, body: 'x' },
      { header: { name: 'rel', type: 'symlink', linkname: '../../../../..' } },
      { header: { name: 'rel/pwned2', type: 'file', mode: 0o644 }, body: 'y' },
    ]);
    await run(dockerAdd('plant.tar', '/x'));
    // Resolved with /x as the root: the files land under /x, never in the host canary.
    expect(read(r.dest, join('x', r.canary, 'pwned'))).toBe('x');
    expect(read(r.dest, 'x/pwned2')).toBe('y');
  });

  test('a hardlink to a host file is resolved inside the extraction root', async () => {
    await craftTar(join(r.src, 'hl.tar'), [
      { header: { name: 'victim', type: 'file', mode: 0o644 }, body: 'inside' },
      { header: { name: 'h', type: 'link', linkname: '/victim' } },
      { header: { name: 'bad', type: 'link', linkname: '../../canary/keep' } },
    ]);
    await expect(run(dockerAdd('hl.tar', '/x'))).rejects.toMatchObject({ code: 'FILEOP_ARCHIVE_ESCAPE' });
    expect(readFileSync(join(r.dest, 'x/h'), 'utf8')).toBe('inside');
  });

  test('a truncated archive is a clear error, not a hang', async () => {
    makeArchive('a.tar.gz', 'gzip');
    const data = readFileSync(join(r.src, 'a.tar.gz'));
    writeFileSync(join(r.src, 'cut.tar.gz'), data.subarray(0, Math.floor(data.length * 0.6)));
    await expect(run(dockerAdd('cut.tar.gz', '/x'))).rejects.toMatchObject({ code: 'FILEOP_ARCHIVE_CORRUPT' });
  });
});

describeIf(isRoot, 'device nodes need root', 'ADD: special entries', () => {
  test('fifos and character devices from an archive are created', async () => {
    await craftTar(join(r.src, 'dev.tar'), [
      { header: { name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 } },
      { header: { name: 'pipe', type: 'fifo', mode: 0o600 } },
    ]);
    await run(dockerAdd('dev.tar', '/s'));
    const st = lstatSync(join(r.dest, 's/dev/null'));
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.rdev).toBe(lstatSync('/dev/null').rdev);
    expect(lstatSync(join(r.dest, 's/pipe')).isFIFO()).toBe(true);
  });
});
