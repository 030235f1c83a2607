/** The git source against repositories made in the test (file:// and a git daemon on 127.0.0.1). */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchGitSource, resolveGitRef } from '../../../src/worker/source/git.js';
import { isGitUrl, parseGitUrl } from '../../../src/worker/source/git-url.js';
import { parseRemoteSourceOp } from '../../../src/worker/source/remote-source-op.js';
import { describeIf, haveBinary } from '../../helpers/skip.js';
import { waitFor } from '../../helpers/wait-for.js';

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', '-c', 'protocol.file.allow=always', ...args], {
    cwd,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd },
  })
    .toString()
    .trim();

let root: string;
let repo: string;
let url: string;
const commits: Record<string, string> = {};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tsbuild-git-'));
  const sub = join(root, 'subrepo');
  mkdirSync(sub);
  git(sub, 'init', '-q');
  writeFileSync(join(sub, 'lib.txt'), 'submodule content');
  git(sub, 'add', '.');
  git(sub, 'commit', '-q', '-m', 'sub');

  repo = join(root, 'repo');
  mkdirSync(repo);
  git(repo, 'init', '-q');
  writeFileSync(join(repo, 'README'), 'v1');
  mkdirSync(join(repo, 'docs'));
  writeFileSync(join(repo, 'docs', 'guide.md'), 'guide v1');
  symlinkSync('/etc', join(repo, 'docs', 'etc-link'));
  symlinkSync('../../../../../../etc', join(repo, 'escape'));
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'one');
  commits['one'] = git(repo, 'rev-parse', 'HEAD');
  git(repo, 'tag', 'v1');
  writeFileSync(join(repo, 'README'), 'v2');
  git(repo, 'commit', '-q', '-am', 'two');
  commits['two'] = git(repo, 'rev-parse', 'HEAD');
  git(repo, 'tag', '-a', '-m', 'annotated', 'v2');
  git(repo, 'checkout', '-q', '-b', 'feature');
  writeFileSync(join(repo, 'feature.txt'), 'feature');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'feature');
  commits['feature'] = git(repo, 'rev-parse', 'HEAD');
  git(repo, 'checkout', '-q', 'main');
  git(repo, 'submodule', 'add', '-q', `file://${sub}`, 'vendor/sub');
  git(repo, 'commit', '-q', '-m', 'submodule');
  commits['main'] = git(repo, 'rev-parse', 'HEAD');
  url = `file://${repo}`;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let work: string;
let dest: string;
let tmp: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'tsbuild-gitwork-'));
  dest = join(work, 'dest');
  tmp = join(work, 'tmp');
  mkdirSync(dest);
});
afterEach(() => {
  // Scratch checkouts are always removed.
  if (existsSync(tmp)) expect(readdirSync(tmp)).toEqual([]);
  rmSync(work, { recursive: true, force: true });
});

describe('git source', () => {
  test('resolves branches, lightweight and annotated tags and HEAD to commits', async () => {
    expect(await resolveGitRef({ remote: url })).toEqual({ commit: commits['main'], refName: 'HEAD' });
    expect(await resolveGitRef({ remote: url, ref: 'feature' })).toEqual({ commit: commits['feature'], refName: 'refs/heads/feature' });
    expect(await resolveGitRef({ remote: url, ref: 'v1' })).toEqual({ commit: commits['one'], refName: 'refs/tags/v1' });
    expect(await resolveGitRef({ remote: url, ref: 'v2' })).toEqual({ commit: commits['two'], refName: 'refs/tags/v2' });
  });

  test('an unknown ref is one clear error', async () => {
    await expect(resolveGitRef({ remote: url, ref: 'nope' })).rejects.toMatchObject({ code: 'GIT_REF_NOT_FOUND', message: `git ref "nope" not found in ${url}` });
  });

  test('clones the default branch without .git, submodules included', async () => {
    const res = await fetchGitSource({ remote: url, destDir: dest, tmpDir: tmp });
    expect(res.commit).toBe(commits['main']);
    expect(readdirSync(dest).sort()).toEqual(['.gitmodules', 'README', 'docs', 'escape', 'vendor']);
    expect(readFileSync(join(dest, 'README'), 'utf8')).toBe('v2');
    expect(readFileSync(join(dest, 'vendor/sub/lib.txt'), 'utf8')).toBe('submodule content');
    expect(existsSync(join(dest, 'vendor/sub/.git'))).toBe(false);
  });

  test('checks out a tag', async () => {
    const res = await fetchGitSource({ remote: url, ref: 'v1', destDir: dest, tmpDir: tmp });
    expect(res).toEqual({ commit: commits['one'], refName: 'refs/tags/v1' });
    expect(readFileSync(join(dest, 'README'), 'utf8')).toBe('v1');
  });

  test('checks out a branch and keeps .git when asked', async () => {
    await fetchGitSource({ remote: url, ref: 'feature', keepGitDir: true, destDir: dest, tmpDir: tmp });
    expect(readFileSync(join(dest, 'feature.txt'), 'utf8')).toBe('feature');
    expect(git(dest, 'rev-parse', 'HEAD')).toBe(commits['feature']);
    expect(git(dest, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('feature');
    expect(git(dest, 'remote', 'get-url', 'origin')).toBe(url);
  });

  test('checks out a full commit id', async () => {
    const res = await fetchGitSource({ remote: url, ref: commits['one'], destDir: dest, tmpDir: tmp });
    expect(res.commit).toBe(commits['one']);
    expect(readFileSync(join(dest, 'README'), 'utf8')).toBe('v1');
  });

  test('checks out an abbreviated commit id', async () => {
    const res = await fetchGitSource({ remote: url, ref: (commits['feature'] as string).slice(0, 10), destDir: dest, tmpDir: tmp });
    expect(res.commit).toBe(commits['feature']);
  });

  test('subdir: only that directory, its symlinks copied as links', async () => {
    await fetchGitSource({ remote: url, ref: 'v1', subdir: 'docs', keepGitDir: true, destDir: dest, tmpDir: tmp });
    expect(readdirSync(dest).sort()).toEqual(['etc-link', 'guide.md']);
  });

  test('a subdir that is a symlink escaping the checkout resolves inside it (never the host /etc)', async () => {
    // "escape" -> ../../../../../../etc: scoped to the checkout that is <checkout>/etc, which does not exist.
    await expect(fetchGitSource({ remote: url, ref: 'v1', subdir: 'escape', destDir: dest, tmpDir: tmp })).rejects.toMatchObject({ code: 'GIT_BAD_SUBDIR' });
    expect(readdirSync(dest)).toEqual([]);
  });

  test('--checksum pins the commit a ref must resolve to', async () => {
    const one = commits['one'] as string;
    await expect(fetchGitSource({ remote: url, ref: 'v1', checksum: one.slice(0, 12), destDir: dest, tmpDir: tmp })).resolves.toMatchObject({ commit: one });
    await expect(fetchGitSource({ remote: url, ref: 'v2', checksum: one, destDir: join(work, 'd2'), tmpDir: tmp })).rejects.toMatchObject({
      code: 'GIT_CHECKSUM_MISMATCH',
      message: `checksum mismatch for ${url}#v2: expected commit ${one}, got ${commits['two']}`,
    });
  });

  test('a missing subdir is a clear error', async () => {
    await expect(fetchGitSource({ remote: url, subdir: 'nope', destDir: dest, tmpDir: tmp })).rejects.toMatchObject({ code: 'GIT_BAD_SUBDIR' });
  });

  test('an unreachable repository is a clear error, not a prompt', async () => {
    await expect(fetchGitSource({ remote: `file://${root}/does-not-exist`, destDir: dest, tmpDir: tmp })).rejects.toMatchObject({ code: 'GIT_FAILED' });
  });

  test('abort stops git mid-clone and removes the scratch checkout', async () => {
    const ac = new AbortController();
    const p = fetchGitSource({ remote: url, subdir: 'docs', destDir: dest, tmpDir: tmp, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 30);
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  test('an already aborted signal starts nothing', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(fetchGitSource({ remote: url, destDir: dest, tmpDir: tmp, signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(readdirSync(dest)).toEqual([]);
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describeIf(haveBinary('git'), 'git not installed', 'git source over git:// (git daemon on 127.0.0.1)', () => {
  let daemon: ChildProcess | undefined;
  let gitUrl: string;
  beforeAll(async () => {
    const port = await freePort();
    daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${root}`, '--listen=127.0.0.1', `--port=${port}`, root], { stdio: 'ignore' });
    gitUrl = `git://127.0.0.1:${port}/repo`;
    const answers = (): boolean => {
      try {
        execFileSync('git', ['ls-remote', gitUrl], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(answers, { what: `git daemon to answer on ${gitUrl}`, intervalMs: 50 });
  });
  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon?.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    }
  });

  test('clones a tag over the git protocol', async () => {
    const res = await fetchGitSource({ remote: gitUrl, ref: 'v2', destDir: dest, tmpDir: tmp });
    expect(res.commit).toBe(commits['two']);
    expect(readFileSync(join(dest, 'README'), 'utf8')).toBe('v2');
  });
});

describe('git URLs', () => {
  test('which sources are git', () => {
    expect(isGitUrl('git@github.com:moby/buildkit.git')).toBe(true);
    expect(isGitUrl('git://host/repo')).toBe(true);
    expect(isGitUrl('https://github.com/moby/buildkit.git#v0.12')).toBe(true);
    expect(isGitUrl('https://example.com/file.tar.gz')).toBe(false);
    expect(isGitUrl('https://example.com/x.git?ref=main')).toBe(true);
  });

  test('fragment and query forms', () => {
    expect(parseGitUrl('https://h/r.git#v1:docs/api')).toEqual({ remote: 'https://h/r.git', ref: 'v1', subdir: 'docs/api', keepGitDir: undefined });
    expect(parseGitUrl('git@h:o/r.git#:sub')).toEqual({ remote: 'git@h:o/r.git', ref: undefined, subdir: 'sub', keepGitDir: undefined });
    expect(parseGitUrl('https://h/r.git?ref=main&subdir=x&keep-git-dir=true')).toEqual({ remote: 'https://h/r.git', ref: 'main', subdir: 'x', keepGitDir: true });
  });

  test('SourceOp attrs', () => {
    expect(
      parseRemoteSourceOp({
        identifier: 'git://github.com/moby/buildkit',
        attrs: [
          { key: 'git.fullurl', value: 'https://github.com/moby/buildkit.git' },
          { key: 'git.ref', value: 'v0.12.0' },
          { key: 'git.keepgitdir', value: 'true' },
        ],
      }),
    ).toEqual({ kind: 'git', remote: 'https://github.com/moby/buildkit.git', ref: 'v0.12.0', subdir: undefined, keepGitDir: true, checksum: undefined });
  });
});
