/**
 * Nothing escapes a killed build: when the tsbuild process dies by SIGKILL (alone, or with its whole
 * process group) while a RUN runs, the step's container — its init and every descendant — is gone
 * within seconds, without waiting for the next tsbuild command; and that next command still starts
 * clean (the stale-run cleanup undoes the mounts the dead process left).
 */
import { expect, test } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cliPath } from '../../helpers/paths.js';
import { describeBuilds, mountsUnder, useBuildEnv } from '../../helpers/build-env.js';
import { processesWhere, processesWithArg, waitUntil } from '../../helpers/processes.js';

interface RuncEntry {
  readonly id: string;
  readonly status: string;
}

function runcList(root: string): RuncEntry[] {
  try {
    const out = execFileSync('runc', ['--root', join(root, 'runc'), 'list', '--format', 'json'], { encoding: 'utf8' }).trim();
    return (JSON.parse(out === '' ? 'null' : out) as RuncEntry[] | null) ?? [];
  } catch {
    return []; // no state directory yet
  }
}

describeBuilds('a SIGKILLed build takes its running RUN with it', () => {
  const env = useBuildEnv();

  test.each(['process', 'process group'] as const)('SIGKILL of the build %s stops the whole container promptly', async (target) => {
    // A recognisable argv: two sleeps, the container's init (sh) and a background child of it.
    const secs = String(900_000 + Math.floor(Math.random() * 99_999));
    const sleeps = (): number[] => processesWhere((a) => a[0] === 'sleep' && a[1] === secs).map((p) => p.pid);
    const ctx = await env.context(`killed-${target.replace(' ', '-')}`, {
      Dockerfile: ['FROM localhost/busybox:latest', `RUN echo started > /marker; sleep ${secs} & sleep ${secs}`, ''].join('\n'),
    });
    const child = spawn(process.execPath, [cliPath, '--root', env.root, 'build', '--progress=plain', ctx], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
      detached: target === 'process group',
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_c, sig) => resolve(sig)));
    let ids: string[] = [];
    try {
      await waitUntil('both sleeps of the RUN', 90_000, () => {
        if (child.exitCode !== null) throw new Error(`the build ended before its RUN ran:\n${stderr}`);
        return sleeps().length === 2;
      });
      ids = runcList(env.root).filter((c) => c.status === 'running').map((c) => c.id);
      expect(ids).toHaveLength(1);
      if (target === 'process') child.kill('SIGKILL');
      else process.kill(-(child.pid as number), 'SIGKILL');
      expect(await closed).toBe('SIGKILL');
      const killedAt = Date.now();
      // Every process of the container, runc, and whatever watched over the run (it names the id).
      await waitUntil('the container and its watchers to be gone', 5_000, () =>
        sleeps().length === 0 && runcList(env.root).every((c) => c.status !== 'running') && processesWithArg(ids[0] as string).length === 0);
      process.stderr.write(`container of a SIGKILLed build (${target}) gone after ${Date.now() - killedAt} ms\n`);
    } finally {
      child.kill('SIGKILL');
      // The next command on the data root starts clean: it removes what the dead process left.
      const next = await env.run(['build', '--progress=plain', await env.context(`after-${target.replace(' ', '-')}`, { Dockerfile: 'FROM localhost/busybox:latest\nRUN true\n' })]);
      expect({ code: next.code, stderr: next.code === 0 ? '' : next.stderr }).toEqual({ code: 0, stderr: '' });
    }
    expect(runcList(env.root)).toEqual([]);
    expect(await mountsUnder(env.root)).toEqual([]);
    expect((await readdir(join(env.root, 'tmp'))).filter((n) => n.startsWith('exec-'))).toEqual([]);
    expect(sleeps()).toEqual([]);
  }, 180_000);
});
