import { describe, expect, test } from '@jest/globals';
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

  test('--version prints the version', async () => {
    const r = await runTsbuild(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tsbuild \d+\.\d+\.\d+/);
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
