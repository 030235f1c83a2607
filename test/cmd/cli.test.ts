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
});
