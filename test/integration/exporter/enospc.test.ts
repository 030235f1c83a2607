/**
 * A full disk during an export: one error line naming the export step and the file, exit code 1,
 * no Node stack (the oci/docker archive writers crashed the process with an unhandled ENOSPC), and
 * no half-written archive left at or beside `dest`. The output goes to a real 200 KiB tmpfs.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBuilds, useBuildEnv } from '../../helpers/build-env.js';
import { mulberry32 } from '../../helpers/prng.js';

describeBuilds('export to a full disk', () => {
  const env = useBuildEnv();
  let small = '';
  let ctx = '';

  beforeAll(async () => {
    // Outside the build env's directory: its own afterAll (checking for mounts) runs before ours.
    small = await mkdtemp(join(tmpdir(), 'tsbuild-small-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', small]);
    // Incompressible, so no compression makes it fit.
    const rand = mulberry32(7);
    const bytes = Buffer.alloc(600_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
    ctx = await env.context('big', { Dockerfile: 'FROM localhost/busybox:latest\nCOPY blob /blob\n', blob: bytes.toString('latin1') });
  });
  afterAll(async () => {
    if (!small) return;
    execFileSync('umount', [small]);
    await rm(small, { recursive: true });
  });

  test.each(['oci', 'docker', 'tar'])('type=%s: the step and the file are named, nothing is left behind', async (type) => {
    const dest = join(small, `out-${type}.tar`);
    const r = await env.run(['build', '--progress=plain', '-o', `type=${type},dest=${dest}`, ctx]);
    expect(r.code).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
    expect(errors).toEqual([`error: exporting to ${type} ${dest}: no space left on device while writing ${dest}`]);
    expect(r.stderr).not.toMatch(/Node\.js v|\n\s+at /);
    expect(await readdir(small)).toEqual([]);
  });
});
