/**
 * The seccomp filter compiled once (src/worker/exec/seccomp-preload.ts): a RUN whose filter
 * tsbuild-run-init loads runs under the very program runc loads itself (read back with ptrace from
 * both), a command that cannot be started fails in runc's words either way, and a damaged program
 * file is never loaded. What the filter does to real calls against Docker's is
 * test/compat/seccomp-probe.test.ts.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { chmod, mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecFailedError } from '../../../src/worker/exec/errors.js';
import { RuncExecutor } from '../../../src/worker/exec/runc-executor.js';
import { dumpFilter, runInitProgram } from '../../../src/worker/exec/seccomp-preload.js';
import type { ExecRequest } from '../../../src/worker/exec/types.js';
import { AUDIT_ARCH, firstDifference, parseProgram, runProgram } from '../../helpers/seccomp-bpf.js';
import { describeIf } from '../../helpers/skip.js';
import { canRunContainers, makeExecFixture, runcList, whyNot } from './fixture.js';
import type { ExecFixture } from './fixture.js';

interface Seen {
  /** The filter of the running step's process, read with ptrace. */
  readonly filter: Buffer;
  /** The config.json runc got. */
  readonly spec: { process: { args: string[] }; linux: { seccomp?: unknown } };
}

/** Runs a step that waits, reads its filter and its spec while it runs, then cancels it. */
async function whileRunning(executor: RuncExecutor, f: ExecFixture, program: string): Promise<Seen> {
  const ac = new AbortController();
  let up!: () => void;
  const ready = new Promise<void>((r) => (up = r));
  const run = executor
    .run({ rootfs: f.rootfs, args: ['/bin/sh', '-c', 'echo up; sleep 60'], env: [], network: 'none', signal: ac.signal, onLog: (l) => l.text === 'up' && up() })
    .catch((e: unknown) => e);
  await ready;
  const [c] = runcList(executor.runcStateDir) as Array<{ pid: number; bundle: string }>;
  if (c === undefined) throw new Error('no running container');
  const seen = { filter: await dumpFilter(program, c.pid), spec: JSON.parse(await readFile(join(c.bundle, 'config.json'), 'utf8')) as Seen['spec'] };
  ac.abort();
  await run;
  return seen;
}

describeIf(canRunContainers, whyNot, 'seccomp filter compiled once, loaded by tsbuild-run-init', () => {
  let f: ExecFixture;
  let plain: RuncExecutor;
  let program: string;

  beforeAll(async () => {
    f = await makeExecFixture();
    plain = new RuncExecutor({ root: f.root, seccompPreload: false });
    const p = runInitProgram();
    // `npm run build` makes it; a tree without it would silently test runc's own filter twice.
    if (p === undefined) throw new Error('native/build/Release/tsbuild-run-init is missing: run npm run build');
    program = p;
  });
  afterAll(async () => {
    await f.dispose();
  });

  test('the step runs under the program runc itself loads, from a spec without linux.seccomp', async () => {
    expect(f.executor.seccompPreload).toBeDefined();
    const own = await whileRunning(plain, f, program);
    expect(own.spec.linux.seccomp).toBeDefined();
    expect(own.spec.process.args[0]).toBe('/bin/sh');
    const pre = await whileRunning(f.executor, f, program);
    expect(pre.spec.linux.seccomp).toBeUndefined();
    expect(pre.spec.process.args).toEqual(['/proc/self/fd/3', '--exec', '--', '/bin/sh', '-c', 'echo up; sleep 60']);
    // Exactly one filter (the dump refuses more), with runc's answers: runc's own program varies
    // from run to run in the order of its ENOSYS stub's arch checks (Go map order), so the two are
    // compared by what they answer on every call number and the arguments the conditions test.
    expect(firstDifference(pre.filter, own.filter)).toBeUndefined();
    const prog = parseProgram(pre.filter);
    const ask = (nr: number, arch: number = AUDIT_ARCH.x86_64, arg0 = 0n): number => runProgram(prog, { nr, arch, args: [arg0, 0n, 0n, 0n, 0n, 0n] });
    expect(ask(0)).toBe(0x7fff0000); // read: SECCOMP_RET_ALLOW
    expect(ask(272)).toBe(0x50001); // unshare: EPERM
    expect(ask(56, AUDIT_ARCH.x86_64, 0x10000000n)).toBe(0x50001); // clone with CLONE_NEWUSER: EPERM
    expect(ask(56, AUDIT_ARCH.x86_64, 0x11n)).toBe(0x7fff0000); // clone without namespace flags
    expect(ask(435)).toBe(0x50026); // clone3: ENOSYS
    expect(ask(1000)).toBe(0x50026); // past the last known call: ENOSYS (runc's stub)
    expect(ask(3, AUDIT_ARCH.i386)).toBe(0x7fff0000); // i386 read
    const files = await readdir(join(f.root, 'seccomp'));
    expect(files).toHaveLength(1);
    expect((await readFile(join(f.root, 'seccomp', files[0] as string))).equals(pre.filter)).toBe(true);
    await f.assertClean();
  });

  test("the step's process sees what it would under runc alone: fds, its command line, its name", async () => {
    const args = ['/bin/sh', '-c', 'ls /proc/self/fd; tr "\\0" " " </proc/1/cmdline; echo; cat /proc/1/comm; grep -E "^(Seccomp|NoNewPrivs|Cap)" /proc/self/status'];
    const pre = await run(f.executor, f, args);
    const own = await run(plain, f, args);
    expect(pre).toBe(own);
    expect(pre).toContain('Seccomp_filters:\t1');
    await f.assertClean();
  });

  const run = async (executor: RuncExecutor, fx: ExecFixture, args: readonly string[], req: Partial<ExecRequest> = {}): Promise<string> => {
    const lines: string[] = [];
    await executor.run({ rootfs: fx.rootfs, args, env: [], network: 'none', signal: AbortSignal.timeout(60_000), ...req, onLog: (l) => lines.push(l.text) });
    return lines.join('\n');
  };

  const outcome = async (executor: RuncExecutor, args: readonly string[], req: Partial<ExecRequest>): Promise<unknown> => {
    try {
      return { ok: await run(executor, f, args, req) };
    } catch (e) {
      if (!(e instanceof ExecFailedError)) throw e;
      return { code: e.code, message: e.message, exitCode: e.exitCode, lines: e.lastLines };
    }
  };

  test("a command that cannot be started fails in runc's words, with its exit code and output", async () => {
    await writeFile(join(f.rootfs, 'bin/garbage'), 'not a program\n');
    await chmod(join(f.rootfs, 'bin/garbage'), 0o755);
    await mkdir(join(f.rootfs, 'usr/local/bin'), { recursive: true });
    await writeFile(join(f.rootfs, 'usr/local/bin/whoami-script'), '#!/bin/sh\necho "I am $0"\n');
    await chmod(join(f.rootfs, 'usr/local/bin/whoami-script'), 0o755);
    const cases: Array<[readonly string[], Partial<ExecRequest>]> = [
      [['no-such-command'], {}],
      [['/no/such/binary', 'arg'], {}],
      [['/etc/passwd'], {}],
      [['/bin'], {}],
      [['/bin/sh/x'], {}],
      [['sh'], { env: ['PATH=bin:/usr/bin'], cwd: '/' }],
      [['sh', '-c', 'echo $PATH'], { env: ['PATH=/bin'] }],
      [['a"b\\c\u0001d'], {}],
      [['garbage'], {}],
      [['/bin/garbage'], {}],
      // Found through a PATH entry with a trailing slash: the script's own name is the clean path.
      [['whoami-script'], { env: ['PATH=/usr/local//bin/'] }],
    ];
    for (const [args, req] of cases) {
      const own = await outcome(plain, args, req);
      const pre = await outcome(f.executor, args, req);
      expect({ args, outcome: pre }).toEqual({ args, outcome: own });
    }
    expect(await outcome(f.executor, ['no-such-command'], {})).toMatchObject({ code: 'EXEC_START_FAILED', message: 'process "no-such-command" could not be started: exec: "no-such-command": executable file not found in $PATH' });
    expect(await outcome(f.executor, ['garbage'], {})).toMatchObject({ code: 'EXEC_FAILED', exitCode: 1, lines: ['exec /bin/garbage: exec format error'] });
    expect(await outcome(f.executor, ['whoami-script'], { env: ['PATH=/usr/local//bin/'] })).toEqual({ ok: 'I am /usr/local/bin/whoami-script' });
    await f.assertClean();
  });

  test("a damaged program file is replaced, never loaded; a dead writer's temporary file is removed", async () => {
    const dir = join(f.root, 'seccomp');
    const [name] = await readdir(dir);
    const file = join(dir, name as string);
    const good = await readFile(file);
    // Still a well-formed program (whole instructions), but not the one its name's digest says.
    const bad = Buffer.from(good);
    bad.writeUInt32LE(0x7fff0000, bad.length - 4);
    await writeFile(file, bad);
    // And a dead writer's temporary file goes (a live one's, moments old, stays).
    const deadTmp = join(dir, `${name as string}.tmp-0badf00d`);
    const liveTmp = join(dir, `${name as string}.tmp-1badf00d`);
    await writeFile(deadTmp, 'half');
    await writeFile(liveTmp, 'half');
    await utimes(deadTmp, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const fresh = new RuncExecutor({ root: f.root });
    expect(await run(fresh, f, ['/bin/sh', '-c', 'echo fine'])).toBe('fine');
    expect((await readdir(dir)).sort()).toEqual([name, `${name as string}.tmp-1badf00d`]);
    await rm(liveTmp);
    expect((await readFile(file)).equals(good)).toBe(true);
    await f.assertClean();
  });
});
