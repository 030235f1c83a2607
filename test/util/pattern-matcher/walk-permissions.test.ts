/**
 * When the walker looks inside directories (CASES.md B8, C18): unreadable directories are fatal only
 * when they would be sent. Root ignores permission bits, so the walk runs in a child process as
 * `nobody`, using the built module in dist/ (run `npm run build` first).
 */
import { afterEach, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../../helpers/paths.js';
import { describeIf, isRoot } from '../../helpers/skip.js';
import { makeTree, removeTree } from './tree.js';

const distModule = join(repoRoot, 'dist', 'src', 'util', 'pattern-matcher', 'index.js');
const NOBODY = 65534;

type Outcome = { readonly ok: true; readonly lines: string[] } | { readonly ok: false; readonly error: string; readonly code: string };

const childScript = `
const { walkContext } = await import(process.argv[1]);
const opts = JSON.parse(process.argv[3]);
try {
  const lines = [];
  for await (const e of walkContext(process.argv[2], opts)) lines.push((e.stat.isDirectory() ? 'dir ' : 'file ') + e.path);
  process.stdout.write(JSON.stringify({ ok: true, lines }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: e.message, code: e.code }));
}
`;

function walkAsNobody(root: string, opts: { excludes?: string[]; includes?: string[] }): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', childScript, pathToFileURL(distModule).href, root, JSON.stringify(opts)],
      { uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(JSON.parse(out) as Outcome);
      } catch {
        reject(new Error(`child failed: ${err}`));
      }
    });
  });
}

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) {
    chmodSync(join(r, 'foo', 'bar'), 0o755);
    removeTree(r);
  }
});

/** Tree `foo/`, `foo/bar/` (mode 000), readable by nobody everywhere else. */
function lockedTree(): string {
  const root = makeTree(['foo/bar/secret']);
  chmodSync(root, 0o755);
  chmodSync(join(root, 'foo', 'bar'), 0o000);
  roots.push(root);
  return root;
}

describeIf(isRoot && existsSync(distModule), 'needs root (to run as nobody) and a built dist/', 'B8 TestWalkerPermissionDenied', () => {
  test('no filter: the unreadable directory is an error', async () => {
    const r = await walkAsNobody(lockedTree(), {});
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContain('permission denied');
      expect(r.error).toContain('foo/bar');
      expect(r.code).toBe('CONTEXT_WALK');
    }
  });

  test('exclude **/bar: never looked at', async () => {
    expect(await walkAsNobody(lockedTree(), { excludes: ['**/bar'] })).toEqual({ ok: true, lines: ['dir foo'] });
  });

  test('exclude **/bar, !foo/bar/baz: descends, but the error is ignored because foo/bar is excluded', async () => {
    expect(await walkAsNobody(lockedTree(), { excludes: ['**/bar', '!foo/bar/baz'] })).toEqual({ ok: true, lines: ['dir foo'] });
  });

  test('exclude **/bar, !foo/bar: must look inside, so it fails', async () => {
    const r = await walkAsNobody(lockedTree(), { excludes: ['**/bar', '!foo/bar'] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain('permission denied');
  });

  test('include foo, !**/bar: never looked at', async () => {
    expect(await walkAsNobody(lockedTree(), { includes: ['foo', '!**/bar'] })).toEqual({ ok: true, lines: ['dir foo'] });
  });

  test('C18: an ignored directory that cannot be read does not break the walk', async () => {
    const root = lockedTree();
    expect(await walkAsNobody(root, { excludes: ['foo/bar'] })).toEqual({ ok: true, lines: ['dir foo'] });
  });
});
