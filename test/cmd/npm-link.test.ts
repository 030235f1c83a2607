/**
 * The quick start's last step, as scripts/example.sh prints it: `npm link` puts `tsbuild` on the
 * PATH. Run on a copy of the package (package files, dist/, its node_modules) with a throwaway npm
 * prefix, so neither the checkout nor the machine's global npm tree changes. Also: the example
 * script installs only the example's Debian packages and names its data root, and every example
 * folder has a README and names only scripts that exist.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { haveBinary, testIf } from '../helpers/skip.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-npm-link-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

testIf(haveBinary('npm') && existsSync(join(repoRoot, 'dist', 'bin', 'tsbuild.cjs')), 'needs npm and a built dist/', 'npm link puts tsbuild on the PATH', async () => {
  const pkg = join(dir, 'pkg');
  for (const f of ['package.json', 'package-lock.json', 'dist', 'proto', 'node_modules']) {
    await cp(join(repoRoot, f), join(pkg, f), { recursive: true, verbatimSymlinks: true });
  }
  const prefix = join(dir, 'prefix');
  const env = { ...process.env, NODE_OPTIONS: '', NPM_CONFIG_PREFIX: prefix, NPM_CONFIG_AUDIT: 'false', NPM_CONFIG_FUND: 'false', NPM_CONFIG_UPDATE_NOTIFIER: 'false' };
  const link = spawnSync('npm', ['link'], { cwd: pkg, env, encoding: 'utf8', timeout: 120_000 });
  expect(link.stderr + link.stdout).not.toMatch(/ERR!/);
  expect(link.status).toBe(0);
  const version = spawnSync('tsbuild', ['--version'], { env: { ...env, PATH: `${join(prefix, 'bin')}:${process.env['PATH'] ?? ''}` }, encoding: 'utf8' });
  expect(version.status).toBe(0);
  const { version: v } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  expect(version.stdout.trim()).toBe(`tsbuild ${v}`);
  // Through the linked bin the launcher finds its bundles: the command line's and the engine's
  // (the parser runs in-process), each through the code cache.
  const cache = join(dir, 'code-cache');
  const dockerfile = join(dir, 'Dockerfile');
  await writeFile(dockerfile, 'FROM busybox\nRUN echo hi\n');
  const parse = spawnSync('tsbuild', ['parse', '--format', 'dump', '-f', dockerfile], { env: { ...env, TSBUILD_CODE_CACHE: cache, PATH: `${join(prefix, 'bin')}:${process.env['PATH'] ?? ''}` }, encoding: 'utf8' });
  expect([parse.status, parse.stderr, parse.stdout]).toEqual([0, '', '(from "busybox")\n(run "echo hi")\n']);
  expect((await readdir(cache)).map((f) => f.replace(/-[0-9a-f]{16}-.*$/, '')).sort()).toEqual(['tsbuild-cli.cjs-parse', 'tsbuild-engine.cjs-parse']);
}, 180_000);

test('scripts/example.sh installs only what the example needs, says where it writes and how to get tsbuild on the PATH', async () => {
  const script = await readFile(join(repoRoot, 'scripts', 'example.sh'), 'utf8');
  const install = /bash scripts\/install-deps\.sh (.+)$/m.exec(script)?.[1]?.split(/\s+/) ?? [];
  expect(install).toContain('runc');
  expect(install).toContain('busybox-static');
  for (const heavy of ['podman', 'graphviz', 'apache2-utils', 'docker.io', 'buildah']) expect(install).not.toContain(heavy);
  expect(script).toMatch(/TSBUILD_ROOT=\$\{TSBUILD_ROOT:-\$PWD\/\.tsbuild-example\}/);
  expect(script).toContain('npm link');
  expect(script).toContain('npm install -g .');
});

test('each example folder has a README, and example comments name scripts that exist', async () => {
  const examples = join(repoRoot, 'examples');
  for (const d of await readdir(examples, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    expect([d.name, existsSync(join(examples, d.name, 'README.md'))]).toEqual([d.name, true]);
    for (const f of await readdir(join(examples, d.name))) {
      if (!/^(Dockerfile|README\.md|.*\.(py|sh))$/.test(f)) continue;
      const text = await readFile(join(examples, d.name, f), 'utf8');
      for (const m of text.matchAll(/scripts\/[\w.-]+\.(?:sh|mjs)/g)) expect([f, m[0], existsSync(join(repoRoot, m[0]))]).toEqual([f, m[0], true]);
    }
  }
});
