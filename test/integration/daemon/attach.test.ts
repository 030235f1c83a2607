/**
 * Running builds through a real tsbuildd on a unix socket, with the real CLI: `tsbuild builds`
 * lists a running build; `tsbuild attach REF` gets its progress from the beginning and its result;
 * the starting client's Ctrl-C (or its death) then no longer cancels the build, which the attached
 * client sees through to the end — while a build nobody is attached to is cancelled when its client
 * dies, leaving no mount. Two clients building the same step at once run it once: the second shows
 * "waiting for the same step in build REF", then CACHED. With neither --addr nor TSBUILD_ADDR, the
 * CLI uses a daemon listening on the default socket (moved under the test's directory with
 * TSBUILD_DEFAULT_SOCKET) and runs embedded when none listens or a data root is named.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, busyboxTar, mountsUnder, rawVertices } from '../../helpers/build-env.js';
import { haveBusybox } from '../../helpers/busybox.js';
import { runTsbuild } from '../../helpers/cli.js';
import { startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { cliPath } from '../../helpers/paths.js';
import { describeIf, haveBinary, isRoot } from '../../helpers/skip.js';
import { waitFor } from '../../helpers/wait-for.js';

interface Running {
  readonly child: ReturnType<typeof spawn>;
  readonly exit: Promise<number | null>;
  stderr(): string;
  stdout(): string;
}

/** The real CLI as a child process whose output the test watches while it runs. */
function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { child, exit, stderr: () => err, stdout: () => out };
}

interface Row {
  readonly ref: string;
  readonly client: string;
  readonly tags: string[];
  readonly attached: number;
  readonly steps: { total: number; done: number; cached: number };
}

describeIf(isRoot && haveBinary('runc') && haveBusybox, 'needs root, runc and busybox', 'tsbuildd running builds: builds, attach, detach', () => {
  let dir = '';
  let root = '';
  let addr = '';
  let daemon: DaemonProcess | undefined;
  const children: Running[] = [];

  const cli = (args: readonly string[], env: NodeJS.ProcessEnv = {}) => runTsbuild(['--addr', addr, ...args], { env });
  const start = (args: readonly string[]): Running => {
    const r = startCli(['--addr', addr, ...args]);
    children.push(r);
    return r;
  };
  async function builds(): Promise<Row[]> {
    const r = await cli(['builds', '--format', 'json']);
    if (r.code !== 0) throw new Error(`tsbuild builds failed: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
  }
  async function context(name: string, dockerfile: string): Promise<string> {
    const d = join(dir, name);
    await mkdir(d);
    await writeFile(join(d, 'Dockerfile'), dockerfile);
    return d;
  }
  /** The one running build tagged `tag`, once ListBuilds shows it. */
  async function runningTagged(tag: string): Promise<Row> {
    let row: Row | undefined;
    await waitFor(async () => (row = (await builds()).find((b) => b.tags.includes(tag))) !== undefined, { what: `a running build tagged ${tag}`, timeoutMs: 60_000, intervalMs: 100 });
    return row as Row;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-attach-'));
    root = join(dir, 'root');
    const imp = await runTsbuild(['--root', root, 'image', 'import', await busyboxTar(), BASE]);
    if (imp.code !== 0) throw new Error(`import failed: ${imp.stderr}`);
    addr = `unix://${join(dir, 'd.sock')}`;
    daemon = await startDaemon(['--addr', addr, '--root', root]);
  }, 120_000);

  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exit));
    if (daemon) expect((await daemon.stop()).code).toBe(0);
    if (dir) {
      expect(await mountsUnder(dir)).toEqual([]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('builds lists it; attach replays its progress; after the starter\'s Ctrl-C the build goes on and attach gets the result', async () => {
    const ctx = await context('attach', `FROM ${BASE}\nRUN echo attach-marker && sleep 15 && echo finished > /f\n`);
    const starter = start(['build', '--progress=plain', '-t', 'attached:1', ctx]);
    const row = await runningTagged('attached:1');
    expect(row).toMatchObject({ client: 'local', attached: 0 });
    const table = await cli(['builds']);
    expect(table.stdout).toMatch(/^REF +CLIENT +BUILDING +STARTED +STEPS +CACHED +ATTACHED$/m);
    expect(table.stdout).toContain(row.ref);

    await waitFor(() => starter.stderr().includes('attach-marker'), { what: 'the RUN step to print its marker', timeoutMs: 60_000 });
    const attach = start(['attach', '--progress=plain', row.ref]);
    // Replayed: the marker was printed before attach connected.
    await waitFor(() => attach.stderr().includes('attach-marker'), { what: 'attach to replay the marker', timeoutMs: 30_000 });
    await waitFor(async () => (await builds()).some((b) => b.ref === row.ref && b.attached === 1), { what: 'ListBuilds to count the attached client', timeoutMs: 10_000, intervalMs: 100 });

    starter.child.kill('SIGINT');
    expect(await starter.exit).toBe(130);
    expect(starter.stderr()).toMatch(/the build goes on for the 1 client\(s\) attached to it \(tsbuild attach [0-9a-f]+\)/);
    expect(await attach.exit).toBe(0);
    expect(attach.stderr()).toMatch(/RUN echo attach-marker[^\n]*\n(.*\n)*#\d+ DONE/);
    const images = await cli(['images']);
    expect(images.stdout).toMatch(/^attached +1 /m);
    expect(await builds()).toEqual([]);
  }, 180_000);

  test('a client that dies with nobody attached cancels its build, leaving no mount', async () => {
    const ctx = await context('orphan', `FROM ${BASE}\nRUN echo orphan-marker && sleep 60\n`);
    const starter = start(['build', '--progress=plain', '-t', 'orphan:1', ctx]);
    await runningTagged('orphan:1');
    await waitFor(() => starter.stderr().includes('orphan-marker'), { what: 'the RUN step to start', timeoutMs: 60_000 });
    starter.child.kill('SIGKILL');
    await starter.exit;
    // Far sooner than the step's 60 s: the daemon cancelled it.
    await waitFor(async () => (await builds()).length === 0, { what: 'the cancelled build to end', timeoutMs: 30_000, intervalMs: 100 });
    expect(await mountsUnder(root)).toEqual([]);
    expect((await cli(['images'])).stdout).not.toMatch(/^orphan /m);
  }, 120_000);

  test('a client that dies while another is attached: the build goes on for the attached one', async () => {
    const ctx = await context('killed', `FROM ${BASE}\nRUN echo killed-marker && sleep 10 && echo x > /x\n`);
    const starter = start(['build', '--progress=plain', '-t', 'killed:1', ctx]);
    const row = await runningTagged('killed:1');
    const attach = start(['attach', '--progress=rawjson', row.ref]);
    await waitFor(() => attach.stderr().includes('killed-marker'), { what: 'attach to show the RUN step', timeoutMs: 60_000 });
    starter.child.kill('SIGKILL');
    await starter.exit;
    // Its client is gone, the build is not.
    expect((await builds()).map((b) => b.ref)).toEqual([row.ref]);
    expect(await attach.exit).toBe(0);
    const step = [...rawVertices(attach.stderr()).values()].find((v) => v.name.includes('echo killed-marker'));
    expect(step).toMatchObject({ cached: false });
    expect(step?.completed).toBeDefined();
    expect((await cli(['images'])).stdout).toMatch(/^killed +1 /m);
  }, 120_000);

  // A read-only token may watch a build but not hold it: only a client that could have started a
  // build itself keeps one going when its own client dies.
  test('a read-only token attached to a build does not keep it alive when its client dies', async () => {
    const tokens = join(dir, 'tokens');
    await writeFile(tokens, 'admin-token-for-attach-test-0123 admin ci\nreader-token-for-attach-test-0123 readonly watcher\n', { mode: 0o600 });
    const taddr = `unix://${join(dir, 'tokens.sock')}`;
    const d = await startDaemon(['--addr', taddr, '--root', join(dir, 'root-tokens'), '--token-file', tokens]);
    const runAs = (token: string, args: readonly string[]): Running => {
      const r = startCli(['--addr', taddr, ...args], { TSBUILD_TOKEN: token });
      children.push(r);
      return r;
    };
    try {
      const load = await runTsbuild(['--addr', taddr, 'image', 'import', await busyboxTar(), BASE], { env: { TSBUILD_TOKEN: 'admin-token-for-attach-test-0123' } });
      expect(load.stderr).toBe('');
      const ctx = await context('readonly-attach', `FROM ${BASE}\nRUN echo ro-marker && sleep 60\n`);
      const starter = runAs('admin-token-for-attach-test-0123', ['build', '--progress=plain', '-t', 'ro:1', ctx]);
      await waitFor(() => starter.stderr().includes('ro-marker'), { what: 'the RUN step to start', timeoutMs: 60_000 });
      const list = async () => (await runTsbuild(['--addr', taddr, 'builds', '--format', 'json'], { env: { TSBUILD_TOKEN: 'reader-token-for-attach-test-0123' } })).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
      const [row] = await list();
      const watcher = runAs('reader-token-for-attach-test-0123', ['attach', '--progress=plain', (row as Row).ref]);
      await waitFor(() => watcher.stderr().includes('ro-marker'), { what: 'the read-only attach to replay the marker', timeoutMs: 30_000 });
      starter.child.kill('SIGKILL');
      await starter.exit;
      // Far sooner than the step's 60 s: nobody who may build was left for it.
      expect(await watcher.exit).not.toBe(0);
      expect(watcher.stderr()).toMatch(/cancel/i);
      await waitFor(async () => (await list()).length === 0, { what: 'the cancelled build to end', timeoutMs: 30_000, intervalMs: 100 });
    } finally {
      expect((await d.stop()).code).toBe(0);
    }
  }, 180_000);

  test('the same step in two concurrent builds runs once; the second waits for the first, then shows CACHED', async () => {
    const step = 'RUN echo shared-marker && sleep 10 && echo shared > /shared';
    const a = await context('share-a', `FROM ${BASE}\n${step}\nRUN echo a > /own\n`);
    const b = await context('share-b', `FROM ${BASE}\n${step}\nRUN echo b > /own\n`);
    const first = start(['build', '--progress=rawjson', '-t', 'share:a', a]);
    const row = await runningTagged('share:a');
    await waitFor(() => first.stderr().includes('shared-marker'), { what: 'the first build to run the shared step', timeoutMs: 60_000 });
    const second = start(['build', '--progress=rawjson', '-t', 'share:b', b]);
    expect(await first.exit).toBe(0);
    expect(await second.exit).toBe(0);
    const sharedOf = (stderr: string) => [...rawVertices(stderr).values()].find((v) => v.name.includes('echo shared-marker'));
    expect(sharedOf(first.stderr())).toMatchObject({ cached: false });
    expect(sharedOf(second.stderr())).toMatchObject({ cached: true });
    const waiting = second.stderr().split('\n').filter((l) => l.includes('"type":"status"')).map((l) => (JSON.parse(l) as { name?: string }).name);
    expect(waiting).toContain(`waiting for the same step in build ${row.ref}`);
    // The second build never ran it: its log never reached the second client.
    expect(second.stderr()).not.toContain('shared-marker\\n');
  }, 180_000);

  test('the same step reached through different contexts (one cache key, two digests) also waits, then shows CACHED', async () => {
    const df = `FROM ${BASE}\nCOPY a.txt /a.txt\nRUN cat /a.txt && echo lease-marker && sleep 10\n`;
    const [a, b] = [await context('lease-a', df), await context('lease-b', df)];
    for (const d of [a, b]) await writeFile(join(d, 'a.txt'), 'same content\n');
    const first = start(['build', '--progress=rawjson', '-t', 'lease:a', a]);
    const row = await runningTagged('lease:a');
    await waitFor(() => first.stderr().includes('lease-marker'), { what: 'the first build to run the RUN step', timeoutMs: 60_000 });
    const second = start(['build', '--progress=rawjson', '-t', 'lease:b', b]);
    expect(await first.exit).toBe(0);
    expect(await second.exit).toBe(0);
    const runOf = (stderr: string) => [...rawVertices(stderr).values()].find((v) => v.name.includes('echo lease-marker'));
    expect(runOf(first.stderr())).toMatchObject({ cached: false });
    // Different contexts: the steps are different vertices, not one shared by digest.
    expect(runOf(second.stderr())?.digest).not.toBe(runOf(first.stderr())?.digest);
    expect(runOf(second.stderr())).toMatchObject({ cached: true });
    const statuses = second.stderr().split('\n').filter((l) => l.includes('"type":"status"')).map((l) => (JSON.parse(l) as { name?: string }).name);
    expect(statuses).toContain(`waiting for the same step in build ${row.ref}`);
  }, 180_000);

  test('no --addr: the daemon on the default socket when one listens, else embedded; info says which', async () => {
    const sock = join(dir, 'default.sock');
    const env = { TSBUILD_ADDR: '', TSBUILD_ROOT: '', TSBUILD_DEFAULT_SOCKET: sock };
    // Nothing listens yet: embedded (on the default data root).
    const before = await runTsbuild(['info'], { env });
    expect(before.stdout).toMatch(/^Mode: +embedded$/m);
    const d = await startDaemon(['--addr', `unix://${sock}`, '--root', root]);
    try {
      const r = await runTsbuild(['info'], { env });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^Mode: +daemon \\(unix://${sock.replace(/[/.]/g, '\\$&')}, the default socket\\)$`, 'm'));
      expect(r.stdout).toMatch(new RegExp(`^Data root: +${root}$`, 'm'));
      const json = JSON.parse((await runTsbuild(['info', '--format', 'json'], { env })).stdout) as { mode: string; addressFrom: string };
      expect(json).toMatchObject({ mode: 'daemon', addressFrom: 'default-socket' });
      // A named data root is an embedded engine's, even with a daemon listening.
      const rooted = await runTsbuild(['--root', join(dir, 'other-root'), 'info'], { env });
      expect(rooted.stdout).toMatch(/^Mode: +embedded$/m);
    } finally {
      expect((await d.stop()).code).toBe(0);
    }
  }, 120_000);
});
