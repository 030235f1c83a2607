/** Choosing and reading the ignore file for a build, on real directories (CASES.md C2, C3, C12). */
import { afterEach, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDockerignore } from '../../src/frontend/dockerignore.js';
import { CancelledError, UserInputError } from '../../src/util/errors.js';
import { walkContext } from '../../src/util/pattern-matcher/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function context(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'tsbuild-di-'));
  dirs.push(root);
  for (const [name, content] of Object.entries(files)) {
    if (name.endsWith('/')) {
      mkdirSync(join(root, name), { recursive: true });
      continue;
    }
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  return root;
}

async function failure(p: Promise<unknown>): Promise<UserInputError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UserInputError) return e;
    throw e;
  }
  throw new Error('expected a UserInputError');
}

describe('loadDockerignore', () => {
  test('no ignore file: nothing ignored', async () => {
    const ctx = context({ Dockerfile: 'FROM scratch' });
    expect(await loadDockerignore({ contextDir: ctx, dockerfilePath: join(ctx, 'Dockerfile') })).toEqual({ file: undefined, patterns: [] });
  });

  test('.dockerignore at the context root', async () => {
    const ctx = context({ Dockerfile: '', '.dockerignore': '# c\n/node_modules\n!keep\n' });
    expect(await loadDockerignore({ contextDir: ctx, dockerfilePath: join(ctx, 'Dockerfile') })).toEqual({
      file: join(ctx, '.dockerignore'),
      patterns: ['node_modules', '!keep'],
    });
  });

  test('C3: <Dockerfile>.dockerignore wins over .dockerignore, per Dockerfile', async () => {
    const ctx = context({
      Dockerfile: '',
      'Dockerfile.dockerignore': 'bar',
      Dockerfile2: '',
      'Dockerfile2.dockerignore': 'foo',
      '.dockerignore': 'foo\nbar',
      foo: 'foo',
      bar: 'bar',
    });
    const one = await loadDockerignore({ contextDir: ctx, dockerfilePath: join(ctx, 'Dockerfile') });
    expect(one).toEqual({ file: join(ctx, 'Dockerfile.dockerignore'), patterns: ['bar'] });
    const two = await loadDockerignore({ contextDir: ctx, dockerfilePath: join(ctx, 'Dockerfile2') });
    expect(two).toEqual({ file: join(ctx, 'Dockerfile2.dockerignore'), patterns: ['foo'] });

    const sent = async (excludes: string[]): Promise<string[]> => {
      const out: string[] = [];
      for await (const e of walkContext(ctx, { excludes })) out.push(e.path);
      return out;
    };
    expect(await sent(one.patterns)).toContain('foo');
    expect(await sent(one.patterns)).not.toContain('bar');
    expect(await sent(two.patterns)).toContain('bar');
    expect(await sent(two.patterns)).not.toContain('foo');
  });

  test('a Dockerfile outside the context brings its own ignore file from beside it', async () => {
    const ctx = context({ 'app/x': '', '.dockerignore': 'x' });
    const elsewhere = context({ 'docker/app.Dockerfile': '', 'docker/app.Dockerfile.dockerignore': 'app/x' });
    const r = await loadDockerignore({ contextDir: ctx, dockerfilePath: join(elsewhere, 'docker', 'app.Dockerfile') });
    expect(r).toEqual({ file: join(elsewhere, 'docker', 'app.Dockerfile.dockerignore'), patterns: ['app/x'] });
  });

  test('an empty Dockerfile-specific file still wins (ignores nothing)', async () => {
    const ctx = context({ Dockerfile: '', 'Dockerfile.dockerignore': '', '.dockerignore': '*' });
    expect(await loadDockerignore({ contextDir: ctx, dockerfilePath: join(ctx, 'Dockerfile') })).toEqual({
      file: join(ctx, 'Dockerfile.dockerignore'),
      patterns: [],
    });
  });

  test('without a Dockerfile path (stdin) only the context file counts', async () => {
    const ctx = context({ '.dockerignore': 'a' });
    expect(await loadDockerignore({ contextDir: ctx })).toEqual({ file: join(ctx, '.dockerignore'), patterns: ['a'] });
  });

  test('C2/C12: "!" alone fails with the file, the line and Docker\'s message', async () => {
    const ctx = context({ '.dockerignore': 'ok\n!\n' });
    const e = await failure(loadDockerignore({ contextDir: ctx }));
    expect(e.code).toBe('DOCKERIGNORE');
    expect(e.message).toBe('failed parsing .dockerignore: illegal exclusion pattern: "!"');
    expect(e.location).toEqual({ file: join(ctx, '.dockerignore'), line: 2, column: 1 });
    expect(e.sourceLine).toBe('!');
  });

  test('a malformed glob names the pattern and the Dockerfile-specific file', async () => {
    const ctx = context({ Dockerfile: '', 'Dockerfile.dockerignore': 'a\r\nsrc/[\r\n' });
    const e = await failure(loadDockerignore({ contextDir: ctx, dockerfilePath: join(ctx, 'Dockerfile') }));
    expect(e.message).toBe('failed parsing Dockerfile.dockerignore: syntax error in pattern "src/["');
    expect(e.location?.line).toBe(2);
    expect(e.sourceLine).toBe('src/[');
  });

  test('a pattern Go cannot compile ([Local-Only]/) is reported up front', async () => {
    const ctx = context({ '.dockerignore': '[Local-Only]/\n' });
    const e = await failure(loadDockerignore({ contextDir: ctx }));
    expect(e.message).toContain('failed parsing .dockerignore: syntax error in pattern "[Local-Only]"');
  });

  test('an unreadable ignore file (a directory) is an error, not silently skipped', async () => {
    const ctx = context({ '.dockerignore/': '' });
    const e = await failure(loadDockerignore({ contextDir: ctx }));
    expect(e.message).toMatch(/^failed reading \.dockerignore: /);
  });

  test('text given (tsbuildd: the client\'s ignore file): no file is read; it stands beside the Dockerfile', async () => {
    const ctx = context({ Dockerfile: '', 'Dockerfile.dockerignore': 'a', '.dockerignore': 'b' });
    const dockerfilePath = join(ctx, 'sub', 'Dockerfile');
    expect(await loadDockerignore({ contextDir: ctx, dockerfilePath, text: '# c\n/x\n!x/y\n' })).toEqual({ file: `${dockerfilePath}.dockerignore`, patterns: ['x', '!x/y'] });
    // None ('') wins over the context's file, as an empty file beside the Dockerfile would.
    expect(await loadDockerignore({ contextDir: ctx, dockerfilePath, text: '' })).toEqual({ file: `${dockerfilePath}.dockerignore`, patterns: [] });
    const e = await failure(loadDockerignore({ contextDir: ctx, dockerfilePath, text: 'ok\n!\n' }));
    expect([e.message, e.location]).toEqual(['failed parsing Dockerfile.dockerignore: illegal exclusion pattern: "!"', { file: `${dockerfilePath}.dockerignore`, line: 2, column: 1 }]);
  });

  test('an aborted signal cancels', async () => {
    const ctx = context({ '.dockerignore': 'a' });
    await expect(loadDockerignore({ contextDir: ctx, signal: AbortSignal.abort() })).rejects.toThrow(CancelledError);
  });
});
