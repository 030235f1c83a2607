/**
 * A RUN dies with its engine: when the process running the executor is SIGKILLed (alone or with
 * its process group, at any moment of the run, also while runc is still creating the container),
 * the container's processes, runc and the run shim are gone within seconds, without waiting for
 * the next engine start; and a run that ends normally leaves no shim process behind.
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { cgroupDirs } from '../../../src/worker/exec/cgroups.js';
import { Runc } from '../../../src/worker/exec/runc.js';
import { RuncExecutor } from '../../../src/worker/exec/runc-executor.js';
import { cleanupStaleRuns } from '../../../src/worker/exec/stale-runs.js';
import { repoRoot } from '../../helpers/paths.js';
import { processesWhere, processesWithArg, waitUntil } from '../../helpers/processes.js';
import { describeIf } from '../../helpers/skip.js';
import { canRunContainers, cgroupDirsFromInside, makeExecFixture, runcList, whyNot } from './fixture.js';
import type { ExecFixture } from './fixture.js';

const register = join(repoRoot, 'test', 'cache', 'fixtures', 'swc-register.mjs');
const engineChild = join(repoRoot, 'test', 'worker', 'exec', 'engine-child.ts');

describeIf(canRunContainers, whyNot, 'a RUN dies with its engine', () => {
  let f: ExecFixture;
  let children: Array<ChildProcessByStdio<null, Readable, Readable>> = [];
  beforeEach(async () => {
    f = await makeExecFixture();
  });
  afterEach(async () => {
    for (const c of children) c.kill('SIGKILL');
    children = [];
    // Whatever a failed test left running is a dead engine's run now.
    await f.executor.cleanupStale({ signal: AbortSignal.timeout(30_000) });
    await f.dispose();
  });

  /** A recognisable argv: the container's init (sh) and its background child both run `sleep secs`. */
  function sleepingRun(): { args: string[]; sleeps: () => number[] } {
    const secs = String(900_000 + Math.floor(Math.random() * 99_999));
    return {
      args: ['/bin/sh', '-c', `sleep ${secs} & sleep ${secs}`],
      sleeps: () => processesWhere((a) => a[0] === 'sleep' && a[1] === secs).map((p) => p.pid),
    };
  }

  function startEngine(args: readonly string[], opts: { ownGroup: boolean; runc?: string }): { child: ChildProcessByStdio<null, Readable, Readable>; output: () => string; starting: Promise<void> } {
    const child = spawn(process.execPath, ['--import', register, engineChild, f.root, f.rootfs, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', ...(opts.runc !== undefined ? { TSBUILD_TEST_RUNC: opts.runc } : {}) },
      detached: opts.ownGroup,
    });
    children.push(child);
    let out = '';
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const starting = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('starting\n')) resolve();
      });
      child.on('close', () => reject(new Error(`the engine child ended before starting:\n${out}`)));
    });
    starting.catch(() => undefined); // not every test awaits it
    return { child, output: () => out, starting };
  }

  /** Nothing of the data root's runs is alive: no runc run, no shim (both name the state dir), no running container. */
  function nothingRuns(stateDir: string): boolean {
    return processesWithArg(stateDir).length === 0 && runcList(stateDir).every((c) => (c as { status: string }).status !== 'running');
  }

  test.each([
    { name: 'the engine process', ownGroup: false },
    { name: 'the engine\'s whole process group', ownGroup: true },
  ])('SIGKILL of $name mid-run kills the whole container and removes its cgroups', async ({ ownGroup }) => {
    const run = sleepingRun();
    const engine = startEngine(run.args, { ownGroup });
    const closed = new Promise<NodeJS.Signals | null>((resolve) => engine.child.on('close', (_c, sig) => resolve(sig)));
    await waitUntil('both sleeps', 30_000, () => {
      if (engine.child.exitCode !== null) throw new Error(`the engine child ended early:\n${engine.output()}`);
      return run.sleeps().length === 2;
    });
    const stateDir = join(f.root, 'runc');
    const [container] = runcList(stateDir) as Array<{ id: string }>;
    const dirs = await cgroupDirs((container as { id: string }).id);
    expect(dirs.filter((d) => existsSync(d))).toEqual(dirs);

    if (ownGroup) process.kill(-(engine.child.pid as number), 'SIGKILL');
    else engine.child.kill('SIGKILL');
    expect(await closed).toBe('SIGKILL');
    await waitUntil('the container, runc and the shim to be gone', 5_000, () => run.sleeps().length === 0 && nothingRuns(stateDir));
    expect(runcList(stateDir)).toEqual([]);
    expect(dirs.filter((d) => existsSync(d))).toEqual([]);

    // The next engine removes the rest (the bundle), as before.
    const report = await f.executor.cleanupStale({ signal: AbortSignal.timeout(30_000) });
    expect(report.bundles).toHaveLength(1);
    await f.assertClean();
  }, 60_000);

  test.each([0, 5, 20, 50, 100, 150, 200, 300])('SIGKILL %i ms into the run, wherever runc is, leaves nothing running', async (ms) => {
    const run = sleepingRun();
    const engine = startEngine(run.args, { ownGroup: false });
    const closed = new Promise<NodeJS.Signals | null>((resolve) => engine.child.on('close', (_c, sig) => resolve(sig)));
    await engine.starting;
    await new Promise((r) => setTimeout(r, ms));
    engine.child.kill('SIGKILL');
    expect(await closed).toBe('SIGKILL');
    // Once no runc process of the data root is left, nothing can start the container any more.
    const stateDir = join(f.root, 'runc');
    await waitUntil('runc and the shim to be gone', 10_000, () => nothingRuns(stateDir));
    expect(run.sleeps()).toEqual([]);
    // Killed this early, the bundle may not name its owner yet: let cleanup take it regardless of age.
    await cleanupStaleRuns({ tmpDir: join(f.root, 'tmp'), runc: new Runc({ stateDir }), signal: AbortSignal.timeout(30_000), orphanAgeMs: 0 });
    await f.assertClean();
  }, 60_000);

  /**
   * Puts a process runc does not know of into a run's cgroups: what a runc killed while it created
   * the container leaves behind (its `runc init`, with no state for `runc kill` or `delete`).
   */
  function strayIn(dirs: readonly string[]): { pid: number; alive: () => boolean } {
    const stray = spawn('/bin/sleep', [String(800_000 + Math.floor(Math.random() * 99_999))], { detached: true, stdio: 'ignore' });
    stray.unref();
    const pid = stray.pid as number;
    for (const d of dirs) writeFileSync(join(d, 'cgroup.procs'), String(pid));
    let exited = false;
    stray.on('exit', () => { exited = true; });
    strays.push(pid);
    return { pid, alive: () => !exited };
  }
  let strays: number[] = [];
  afterEach(() => {
    for (const pid of strays) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    strays = [];
  });

  test('a process runc does not know of in the run\'s cgroups is killed and the cgroups removed: engine killed, and run ended', async () => {
    // Engine killed: the shim's watcher finds the cgroups busy after `runc delete`.
    const run = sleepingRun();
    const engine = startEngine(run.args, { ownGroup: false });
    await waitUntil('both sleeps', 30_000, () => run.sleeps().length === 2);
    const stateDir = join(f.root, 'runc');
    const [container] = runcList(stateDir) as Array<{ id: string }>;
    const dirs = await cgroupDirs((container as { id: string }).id);
    const stray = strayIn(dirs);
    engine.child.kill('SIGKILL');
    await waitUntil('the stray killed and the cgroups removed', 8_000, () => !stray.alive() && dirs.every((d) => !existsSync(d)));
    await waitUntil('runc and the shim to be gone', 10_000, () => nothingRuns(stateDir));
    await f.executor.cleanupStale({ signal: AbortSignal.timeout(30_000) });
    await f.assertClean();

    // Run ended under the engine: its own cleanup finds the cgroups busy after `runc delete`.
    let second: { alive: () => boolean } | undefined;
    let secondDirs: string[] = [];
    await f.executor.run({
      rootfs: f.rootfs, args: ['/bin/sh', '-c', 'cat /proc/self/cgroup; echo started; sleep 0.3'], env: [], network: 'none', signal: AbortSignal.timeout(30_000),
      onLog: (l) => {
        if (l.text !== 'started') return;
        const own = runcList(stateDir) as Array<{ id: string }>;
        secondDirs = cgroupDirs((own[0] as { id: string }).id);
        second = strayIn(secondDirs);
      },
    });
    expect(second).toBeDefined();
    await waitUntil('the second stray to exit', 2_000, () => !(second as { alive: () => boolean }).alive());
    expect(secondDirs.filter((d) => existsSync(d))).toEqual([]);
    await f.assertClean();
  }, 60_000);

  test('runs that end (succeed, fail, are cancelled) leave no shim process, and the shim touched nothing', async () => {
    // A runc that logs the calls the shim's watcher makes: after a run that ended under the
    // engine's control there must be none (it would be ~80 ms of CPU per RUN spent for nothing).
    const log = join(f.dir, 'shim-calls.log');
    const wrapper = join(f.dir, 'runc-wrapper');
    await writeFile(wrapper, [
      '#!/bin/sh',
      `case "$(tr '\\0' ' ' </proc/$PPID/cmdline)" in *tsbuild-run-shim*) echo "$*" >>${log};; esac`,
      'exec runc "$@"',
      '',
    ].join('\n'), { mode: 0o755 });
    const executor = new RuncExecutor({ root: f.root, runcBinary: wrapper });
    const shimsOf = async (text: string): Promise<string[]> => {
      const [dir] = await cgroupDirsFromInside(text);
      const id = (dir as string).split('/').pop() as string;
      return processesWithArg(id).map((p) => p.argv.join(' '));
    };
    const run = async (args: string[], signal = AbortSignal.timeout(30_000), onText?: (t: string) => void): Promise<string> => {
      let out = '';
      await executor.run({ rootfs: f.rootfs, args, env: [], network: 'none', signal, onLog: (l) => { out += `${l.text}\n`; onText?.(l.text); } }).catch(() => undefined);
      return out;
    };
    const outputs = [
      await run(['/bin/cat', '/proc/self/cgroup']),
      await run(['/bin/sh', '-c', 'cat /proc/self/cgroup; exit 3']),
    ];
    const ac = new AbortController();
    outputs.push(await run(['/bin/sh', '-c', 'cat /proc/self/cgroup; echo started; sleep 100'], ac.signal, (t) => {
      if (t === 'started') ac.abort();
    }));
    // Told "done" when runc exits, each shim is gone a moment after its run settled.
    await waitUntil('the shims to exit', 2_000, async () => (await Promise.all(outputs.map(shimsOf))).every((s) => s.length === 0));
    expect(existsSync(log) ? await readFile(log, 'utf8') : '').toBe('');
    await f.assertClean();

    // The same wrapper sees the watcher act when the engine is gone (the check above can fail).
    const sleeping = sleepingRun();
    const engine = startEngine(sleeping.args, { ownGroup: false, runc: wrapper });
    await waitUntil('both sleeps', 30_000, () => sleeping.sleeps().length === 2);
    engine.child.kill('SIGKILL');
    await waitUntil('the watcher to kill the container', 5_000, () => sleeping.sleeps().length === 0 && nothingRuns(join(f.root, 'runc')));
    expect(await readFile(log, 'utf8')).toMatch(/kill tsbuild-[0-9a-f]+ KILL/);
  });
});
