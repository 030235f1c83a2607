/**
 * Identical steps of concurrent builds in different processes on one data root run once: a step
 * lease per cache key makes the others wait and then take the result as CACHED (they used to run
 * the shared RUN once each). A holder killed with SIGKILL frees its lease: a waiting build takes
 * over and runs the step itself.
 */
import { expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { describeBuilds, rawVertices, useBuildEnv } from '../../helpers/build-env.js';
import { cliPath } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/wait-for.js';

const SHARED = 'RUN sleep 1 && echo shared > /shared';

describeBuilds('identical steps across concurrent build processes', () => {
  const env = useBuildEnv();

  test('6 processes building Dockerfiles that share a RUN: it runs once, the others show it CACHED', async () => {
    const contexts = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => env.context(`share-${i}`, { Dockerfile: `FROM localhost/busybox:latest\n${SHARED}\nRUN echo own-${i % 2} > /own\n` })),
    );
    const runs = await Promise.all(contexts.map((ctx) => env.run(['build', '--progress=rawjson', ctx], { timeoutMs: 180_000 })));
    for (const r of runs) expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    const shared = runs.map((r) => {
      const v = [...rawVertices(r.stderr).values()].find((x) => x.name.includes('sleep 1 && echo shared'));
      if (!v) throw new Error(`no shared step in:\n${r.stderr}`);
      return v.cached ? 'cached' : 'executed';
    });
    expect(shared.filter((s) => s === 'executed')).toHaveLength(1);
    expect(shared.filter((s) => s === 'cached')).toHaveLength(5);
    // The two variants of the second step (own-0, own-1) also ran once each.
    const own = runs.flatMap((r) => [...rawVertices(r.stderr).values()].filter((x) => x.name.includes('echo own-') && !x.cached));
    expect(own).toHaveLength(2);
  }, 240_000);

  test('a holder killed with SIGKILL frees the lease: the waiting build runs the step', async () => {
    const slow = 'RUN sleep 10 && echo slow > /slow';
    const a = await env.context('kill-a', { Dockerfile: `FROM localhost/busybox:latest\n${slow}\n` });
    const b = await env.context('kill-b', { Dockerfile: `FROM localhost/busybox:latest\n${slow}\nRUN true\n` });
    const holder = startBuild(env.root, a);
    await waitFor(() => holder.stderr().includes('sleep 10') && holder.stderr().includes('"started"'), {
      what: 'the first build to start the slow step',
      timeoutMs: 60_000,
    });
    const waiter = startBuild(env.root, b);
    await waitFor(() => /waiting for build process \d+, which is running the same step/.test(waiter.stderr()), {
      what: 'the second build to wait for the first',
      timeoutMs: 60_000,
    });
    holder.child.kill('SIGKILL');
    await holder.exit;
    const code = await waiter.exit;
    expect({ code, stderr: code === 0 ? '' : waiter.stderr() }).toEqual({ code: 0, stderr: '' });
    const step = [...rawVertices(waiter.stderr()).values()].find((v) => v.name.includes('sleep 10 && echo slow'));
    expect(step?.cached).toBe(false);
    expect(step?.error).toBeUndefined();
    expect(step?.completed).toBeDefined();
    // The killed build's mounts are undone by the next command's recovery (check --repair lists it).
    const check = await env.run(['cache', 'check', '--repair']);
    expect(check.stdout + check.stderr).toMatch(/unmounted .*merged of a process that is gone/);
  }, 240_000);
});

function startBuild(root: string, ctx: string, progress = 'rawjson') {
  const child = spawn(process.execPath, [cliPath, '--root', root, 'build', `--progress=${progress}`, ctx], {
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { child, exit, stderr: () => err };
}
