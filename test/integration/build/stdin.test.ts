/** `tsbuild build -f - DIR` (Dockerfile on stdin) and `tsbuild build -` (context tarball on stdin). */
import { expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeBuilds, useBuildEnv } from '../../helpers/build-env.js';

describeBuilds('build inputs on standard input', () => {
  const env = useBuildEnv();

  test('-f - reads the Dockerfile from stdin; the context is the directory', async () => {
    const ctx = await env.context('stdin-df', { 'a.txt': 'from the context\n' });
    const out = join(env.dir, 'out1');
    const r = await env.run(['build', '--progress=quiet', '-f', '-', '-o', `type=local,dest=${out}`, ctx], {
      input: 'FROM localhost/busybox:latest\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\n',
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await readFile(join(out, 'b.txt'), 'utf8')).toBe('from the context\n');
  });

  test('- reads the whole context, Dockerfile included, as a tar from stdin', async () => {
    const ctx = await env.context('stdin-ctx', {
      Dockerfile: 'FROM localhost/busybox:latest\nCOPY . /ctx/\n',
      'dir/file.txt': 'tarred\n',
    });
    const tar = execFileSync('tar', ['-C', ctx, '-cf', '-', '.']);
    const out = join(env.dir, 'out2');
    const r = await env.run(['build', '--progress=quiet', '-o', `type=local,dest=${out}`, '-'], { input: tar });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await readFile(join(out, 'ctx', 'dir', 'file.txt'), 'utf8')).toBe('tarred\n');
  });

  test('a context on stdin that is not a tar is one clear error', async () => {
    const r = await env.run(['build', '--progress=quiet', '-'], { input: 'this is not a tar archive, not even close'.repeat(20) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: the build context on standard input is not a valid tar archive/m);
  });

  test('both on stdin is a usage error', async () => {
    const r = await env.run(['build', '-f', '-', '-']);
    expect(r.code).toBe(2);
  });
});
