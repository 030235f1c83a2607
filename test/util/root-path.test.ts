/**
 * The one root-scoped resolver (src/util/root-path.ts), and where its three former copies
 * disagreed: the runtime's copy (src/worker/exec/root-path.ts) stopped after Linux's 40 symlinks,
 * the file ops and context checksums after 255. BuildKit resolves container paths (USER lookup,
 * mountpoints) and COPY paths with continuity's RootPath and its 255 limit: that is kept for all.
 * The synchronous resolver (a RUN's mountpoints and working directory) walks the same way.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_SYMLINKS, resolveInRoot, resolveInRootSync } from '../../src/util/root-path.js';
import type { RootResolveOptions, RootedPath } from '../../src/util/root-path.js';
import { hostPathInRootfs, hostPathInRootfsSync, readFileInRoot } from '../../src/worker/exec/root-path.js';

type Resolve = (root: string, p: string, opts: RootResolveOptions) => Promise<RootedPath>;
type HostPath = (root: string, p: string) => Promise<string>;
/** Both resolvers, the sync ones wrapped so that the same assertions hold for each. */
const RESOLVERS: ReadonlyArray<readonly [string, Resolve, HostPath]> = [
  ['async', resolveInRoot, hostPathInRootfs],
  ['sync', async (r, p, o) => resolveInRootSync(r, p, o), async (r, p) => hostPathInRootfsSync(r, p)],
];

describe.each(RESOLVERS)('resolveInRoot (%s)', (_kind, resolve, hostPath) => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tsbuild-rootpath-'));
    await mkdir(join(root, 'etc'));
    await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
    // A chain of 100 links: l0 → l1 → … → l99 → /etc (more than Linux's 40, fewer than 255).
    for (let i = 0; i < 100; i++) await symlink(i === 99 ? '/etc' : `l${i + 1}`, join(root, `l${i}`));
    await symlink('loop-b', join(root, 'loop-a'));
    await symlink('loop-a', join(root, 'loop-b'));
    await symlink('../../../etc', join(root, 'up'));
    await writeFile(join(root, 'etc', 'group'), `${'g:x:1:\n'.repeat(20_000)}last:x:2:\n`);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('a chain of 100 symlinks resolves, in the runtime too (it stopped at 40 before)', async () => {
    expect(MAX_SYMLINKS).toBe(255);
    expect((await resolve(root, '/l0/passwd', { followFinal: true })).inRoot).toBe('/etc/passwd');
    expect(await hostPath(root, '/l0/passwd')).toBe(join(root, 'etc', 'passwd'));
    expect((await readFileInRoot(root, '/l0/passwd', new AbortController().signal))?.toString()).toContain('root:x:0:0');
  });

  test('a loop fails with the caller\'s error; `..` stops at the root', async () => {
    await expect(resolve(root, '/loop-a/x', { followFinal: true, loopError: (at) => new Error(`loop at ${at}`) })).rejects.toThrow(/^loop at \/loop-[ab]$/);
    await expect(hostPath(root, '/loop-a')).rejects.toMatchObject({ code: 'SYMLINK_LOOP' });
    expect((await resolve(root, 'up/passwd', { followFinal: true })).inRoot).toBe('/etc/passwd');
  });

  test('exists: false for a missing component, true again when `..` leads back to real ones', async () => {
    expect(await resolve(root, '/nope/passwd', { followFinal: true })).toMatchObject({ inRoot: '/nope/passwd', exists: false });
    expect(await resolve(root, '/nope/../l0/passwd', { followFinal: true })).toMatchObject({ inRoot: '/etc/passwd', exists: true });
    expect(await resolve(root, '/l0', { followFinal: false })).toMatchObject({ inRoot: '/l0', exists: true });
  });

  test('readFileInRoot reads a small file and a big one (over 64 KiB) whole; a missing one or a directory is undefined', async () => {
    const big = await readFileInRoot(root, '/l0/group', new AbortController().signal);
    expect(big?.length).toBe(20_000 * 7 + 10);
    expect(big?.toString().endsWith('last:x:2:\n')).toBe(true);
    expect(await readFileInRoot(root, '/etc/nope', new AbortController().signal)).toBeUndefined();
    expect(await readFileInRoot(root, '/l0', new AbortController().signal)).toBeUndefined();
  });
});
