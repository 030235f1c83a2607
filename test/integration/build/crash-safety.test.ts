/**
 * Crash safety: a build killed with SIGKILL during a RUN, right after a step's snapshot is committed
 * (before its cache record exists), and in the middle of writing a layer blob leaves a store that
 * `tsbuild cache check` reports (and does not change); the next command's start recovers it, after
 * which the check passes, and the next build succeeds and reuses what was finished.
 */
import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { cliPath } from '../../helpers/paths.js';
import { describeBuilds, useBuildEnv, mountsUnder, type BuildEnv } from '../../helpers/build-env.js';

/** Starts a build and SIGKILLs it as soon as `marker` appears on its stderr. */
async function killAt(env: BuildEnv, args: readonly string[], marker: string, failpoint?: string): Promise<string> {
  const child = spawn(process.execPath, [cliPath, '--root', env.root, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', ...(failpoint ? { TSBUILD_FAILPOINT: failpoint } : {}) },
  });
  let stderr = '';
  const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_c, sig) => resolve(sig)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`"${marker}" never appeared:\n${stderr}`)), 90_000);
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('close', () => reject(new Error(`build ended before "${marker}":\n${stderr}`)));
  });
  child.kill('SIGKILL');
  expect(await closed).toBe('SIGKILL');
  return stderr;
}

/** CACHED or DONE for the step whose plain-progress header ends with `name`. */
function stepOutcome(plain: string, name: string): string | undefined {
  const header = plain.split('\n').find((l) => /^#\d+ \[/.test(l) && l.endsWith(`] ${name}`));
  const n = header?.split(' ')[0];
  if (n === undefined) return undefined;
  return plain.split('\n').find((l) => l === `${n} CACHED` || l.startsWith(`${n} DONE`))?.split(' ')[1];
}

describeBuilds('crash safety (SIGKILL)', () => {
  const env = useBuildEnv();

  const cases = [
    // The log line shows the product; the step's name shows the expression, so only a running RUN matches.
    // `reused`: whether the marker step had finished (record saved) when the build was killed.
    { name: 'during a RUN', marker: '42-running', failpoint: undefined, reused: true },
    { name: 'after a step was committed, before its cache record', marker: 'failpoint exec.committed reached', failpoint: 'exec.committed', reused: false },
    { name: 'while a layer blob is being written', marker: 'failpoint blob.written reached', failpoint: 'blob.written', reused: true },
  ] as const;

  describe.each(cases)('killed $name', ({ name, marker, failpoint, reused }) => {
    test('the store passes cache check and the next build succeeds', async () => {
      const tag = name.replace(/\W+/g, '-');
      const ctx = await env.context(`crash-${tag}`, {
        Dockerfile: ['FROM localhost/busybox:latest', `RUN echo ${tag} > /marker`, failpoint ? 'RUN echo done' : 'RUN echo $((6*7))-running && sleep 30', ''].join('\n'),
      });
      await killAt(env, ['build', '--progress=plain', '-o', `type=oci,dest=${env.dir}/${tag}.tar`, ctx], marker, failpoint);
      // A check changes nothing: it reports what the killed build left (its interrupted lease,
      // holds, mounts, unfinished snapshot)...
      const report = await env.run(['cache', 'check']);
      expect(report.code).toBe(1);
      expect(report.stdout).toMatch(/^dead-lease: operation build \(\w+\) was interrupted/m);
      // ...and the next command's start recovers it, whatever the command (du here).
      expect((await env.run(['du'])).code).toBe(0);
      expect(await mountsUnder(env.root)).toEqual([]);
      const check = await env.run(['cache', 'check']);
      expect({ code: check.code, output: check.stdout + check.stderr }).toEqual({ code: 0, output: expect.stringMatching(/^ok/m) });
      const ctx2 = await env.context(`crash-${tag}-2`, {
        Dockerfile: ['FROM localhost/busybox:latest', `RUN echo ${tag} > /marker`, 'RUN cat /marker', ''].join('\n'),
      });
      const again = await env.run(['build', '--progress=plain', '-o', `type=oci,dest=${env.dir}/${tag}-2.tar`, ctx2]);
      expect(again.code).toBe(0);
      // What finished before the kill is reused; a step whose record was never written runs again.
      const step = (name: string): string | undefined => stepOutcome(again.stderr, name);
      expect(step('FROM localhost/busybox:latest')).toBe('CACHED');
      expect(step(`RUN echo ${tag} > /marker`)).toBe(reused ? 'CACHED' : 'DONE');
      expect(step('RUN cat /marker')).toBe('DONE');
      expect(await mountsUnder(env.root)).toEqual([]);
      const after = await env.run(['cache', 'check']);
      expect({ code: after.code, output: after.stdout + after.stderr }).toEqual({ code: 0, output: expect.stringMatching(/^ok/m) });
    }, 180_000);
  });
});
