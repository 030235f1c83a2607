import { describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTsbuild } from '../helpers/cli.js';

describe('tsbuild command line', () => {
  test('--help lists the commands', async () => {
    const r = await runTsbuild(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tsbuild/);
  });

  test('an unknown command is one line and exit code 2', async () => {
    const r = await runTsbuild(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  test('a bad --add-host is one line and exit code 2, before anything runs', async () => {
    const r = await runTsbuild(['build', '--add-host', 'db:not-an-ip', '/nonexistent-context']);
    expect([r.code, r.stderr.trim().split('\n')]).toEqual([2, ['tsbuild: build: invalid --add-host "db:not-an-ip": invalid IP address "not-an-ip"']]);
  });

  test('a bad --ulimit or --shm-size is one line and exit code 2', async () => {
    const r = await runTsbuild(['build', '--ulimit', 'nofile=2:1', '/nonexistent-context']);
    expect([r.code, r.stderr.trim().split('\n')]).toEqual([2, ['tsbuild: build: invalid --ulimit "nofile=2:1": the soft limit 2 is above the hard limit 1']]);
    const s = await runTsbuild(['build', '--shm-size', '0', '/nonexistent-context']);
    expect([s.code, s.stderr.trim().split('\n')]).toEqual([2, ['tsbuild: build: invalid --shm-size "0": the size must be above 0']]);
  });

  test('--version prints the version', async () => {
    const r = await runTsbuild(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tsbuild \d+\.\d+\.\d+/);
  });

  // The launcher writes the line to fd 1 itself: a stream for stdout (here a pipe) would load
  // Node's stream modules and net first, more than the rest of --version costs (issue 10).
  test('--version loads no stream module', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsbuild-version-'));
    try {
      const report = join(dir, 'loaded.json');
      const hook = join(dir, 'hook.cjs');
      await writeFile(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify(process.moduleLoadList)));\n`);
      const r = await runTsbuild(['--version'], { env: { NODE_OPTIONS: `--require ${hook}` } });
      expect([r.code, r.stdout]).toEqual([0, expect.stringMatching(/^tsbuild \d+\.\d+\.\d+\n$/)]);
      const loaded = JSON.parse(await readFile(report, 'utf8')) as string[];
      expect(loaded.filter((m) => /^NativeModule (stream|net|tty|internal\/fs\/sync_write_stream)$/.test(m))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // Node's recursive mkdir never returns under /proc (it retries ENOENT forever); the data root
  // is created component by component instead, so this is one located error, not a hung command.
  test.each([
    ['/proc/nonexistent/root', 'cannot create /proc/nonexistent: ENOENT'],
    ['/etc/hostname/root', '/etc/hostname is not a directory'],
  ])('an unusable --root %s is one error, exit 1', async (root, message) => {
    const r = await runTsbuild(['--root', root, 'du'], { timeoutMs: 30_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`error: data root ${root}: ${message}`]);
  });
});
