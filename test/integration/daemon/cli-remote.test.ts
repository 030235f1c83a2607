/**
 * The real CLI against a real tsbuildd: `tsbuild --addr unix://SOCK` images, tag, inspect, history,
 * rmi, du and prune print what the embedded CLI prints on an equal store (two data roots made by
 * one import and build, then copied with `cp -a`; relative times, the root path and the IDs of
 * snapshots unpacked on demand by inspect are the only differences allowed); `info` says daemon; TSBUILD_ADDR works like --addr; a readonly token may
 * list but not prune (PERMISSION_DENIED, the daemon's message); and the CLI talking to a daemon
 * does not load the engine.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, busyboxTar, mountsUnder } from '../../helpers/build-env.js';
import { haveBusybox } from '../../helpers/busybox.js';
import { runTsbuild, type CliResult } from '../../helpers/cli.js';
import { startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { describeIf, haveBinary, isRoot } from '../../helpers/skip.js';
import { cliPath, repoRoot } from '../../helpers/paths.js';

const READER = 'reader-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';

describeIf(isRoot && haveBinary('runc') && haveBusybox, 'needs root, runc and busybox', 'tsbuild --addr: the CLI through tsbuildd', () => {
  let dir = '';
  let embRoot = '';
  let dRoot = '';
  let addr = '';
  let tokAddr = '';
  const daemons: DaemonProcess[] = [];

  const emb = (args: readonly string[]): Promise<CliResult> => runTsbuild(['--root', embRoot, ...args]);
  const remote = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => runTsbuild(['--addr', addr, ...args], { env });
  /** What may differ between two equal stores made at different times. */
  const norm = (s: string): string => s
    .replaceAll(embRoot, 'ROOT').replaceAll(dRoot, 'ROOT')
    .replace(/overlay2\/[0-9a-f]{64}/g, 'overlay2/SNAPSHOT')
    // Bytes on disk by place: the two roots' databases and scratch differ in size.
    .replace(/^Data root: .*$/m, 'Data root: N')
    .replace(/(About a minute|About an hour|Less than a second|1 second|\d+ (seconds|minutes|hours)) ago/g, 'N ago')
    // Relative times of different widths pad their table columns differently.
    .replace(/ {2,}/g, '  ');

  async function both(args: readonly string[]): Promise<[CliResult, CliResult]> {
    const e = await emb(args);
    const d = await remote(args);
    return [e, d];
  }

  async function prepare(root: string, ctx: string): Promise<void> {
    for (const args of [['image', 'import', await busyboxTar(), BASE], ['build', '--progress', 'quiet', '-t', 'app:1', ctx]]) {
      const r = await runTsbuild(['--root', root, ...args], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
      if (r.code !== 0) throw new Error(`tsbuild ${args.join(' ')} failed: ${r.stderr}`);
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-cli-remote-'));
    embRoot = join(dir, 'emb');
    dRoot = join(dir, 'daemon');
    const ctx = join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'a.txt'), 'hello\n');
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${BASE}\nCOPY a.txt /a.txt\nRUN echo built > /b.txt\nENV MODE=test\n`);
    await prepare(embRoot, ctx);
    execFileSync('cp', ['-a', embRoot, dRoot]);
    const tokens = join(dir, 'tokens');
    await writeFile(tokens, `${ADMIN} admin ci\n${READER} readonly dashboards\n`, { mode: 0o600 });
    addr = `unix://${join(dir, 'd.sock')}`;
    tokAddr = `unix://${join(dir, 'tok.sock')}`;
    daemons.push(await startDaemon(['--addr', addr, '--root', dRoot]));
    // A second daemon on the same data root (two engines on one root are supported), with tokens.
    daemons.push(await startDaemon(['--addr', tokAddr, '--root', dRoot, '--token-file', tokens]));
  }, 300_000);

  afterAll(async () => {
    for (const d of daemons) expect((await d.stop()).code).toBe(0);
    if (dir) {
      expect(await mountsUnder(dir)).toEqual([]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('info says daemon and where; embedded says embedded', async () => {
    const d = await remote(['info']);
    expect(d.stderr).toBe('');
    expect(d.stdout).toMatch(new RegExp(`^Mode: +daemon \\(${addr.replace(/[/.]/g, '\\$&')}\\)$`, 'm'));
    expect(d.stdout).toMatch(new RegExp(`^Data root: +${dRoot}$`, 'm'));
    expect(d.stdout).toMatch(/^Runc: +\d+\.\d+/m);
    expect(d.stdout).toMatch(/^Features: +.*secrets/m);
    expect(d.stdout).toMatch(/^GC budget: +\d+(\.\d+)?[KMGT]?B \(the cache is pruned after builds to stay under it\)$/m);
    const e = await emb(['info']);
    expect(e.stdout).toMatch(/^Mode: +embedded$/m);
    expect(norm(e.stdout).replace(/^Mode:.*$/m, '')).toBe(norm(d.stdout).replace(/^Mode:.*$/m, ''));
  });

  test('images, tag, inspect, history: the same stdout as embedded', async () => {
    for (const args of [['images'], ['tag', 'app:1', 'app:2'], ['images', '--digests'], ['inspect', 'app:1'], ['history', 'app:1'], ['history', '--no-trunc', 'app:2']]) {
      const [e, d] = await both(args);
      expect({ args, code: d.code, stderr: d.stderr }).toEqual({ args, code: 0, stderr: '' });
      expect({ args, out: norm(d.stdout) }).toEqual({ args, out: norm(e.stdout) });
    }
    expect((await remote(['images'])).stdout).toMatch(/^app +2 /m);
  });

  test('rmi: the same output, and the same error for an unknown image', async () => {
    const [e, d] = await both(['rmi', 'app:2']);
    expect(d).toEqual(e);
    expect(d.stdout).toBe('Untagged: app:2\n');
    const [e2, d2] = await both(['rmi', 'nope:1']);
    expect(d2).toEqual(e2);
    expect(d2).toMatchObject({ code: 1, stdout: '', stderr: 'error: No such image: nope:1\n' });
  });

  test('TSBUILD_ADDR selects the daemon like --addr', async () => {
    const r = await runTsbuild(['info'], { env: { TSBUILD_ADDR: addr } });
    expect(r.stdout).toMatch(/^Mode: +daemon/m);
  });

  test('a readonly token lists images but cannot prune; an admin token can tag', async () => {
    const list = await runTsbuild(['--addr', tokAddr, '--token', READER, 'images', '-q']);
    expect(list).toMatchObject({ code: 0, stderr: '' });
    const prune = await runTsbuild(['--addr', tokAddr, 'prune', '-f'], { env: { TSBUILD_TOKEN: READER } });
    expect(prune).toMatchObject({ code: 1, stdout: '', stderr: 'error: Prune needs the admin role; dashboards has read-only access\n' });
    const none = await runTsbuild(['--addr', tokAddr, 'images']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: this daemon needs a bearer token/);
    const tag = await runTsbuild(['--addr', tokAddr, '--token', ADMIN, 'tag', 'app:1', 'app:admin']);
    expect(tag).toMatchObject({ code: 0, stderr: '' });
    expect((await remote(['rmi', 'app:admin'])).stdout).toBe('Untagged: app:admin\n');
  });

  test('du and prune -f: the same stdout as embedded', async () => {
    const [e, d] = await both(['du']);
    expect(d.code).toBe(0);
    expect(norm(d.stdout)).toBe(norm(e.stdout));
    const [pe, pd] = await both(['prune', '-f', '--all']);
    expect(pd.code).toBe(0);
    expect(pd.stdout).toMatch(/^Deleted build cache objects:\n/);
    expect(pd.stdout).toBe(pe.stdout);
    expect(norm((await remote(['du'])).stdout)).toBe(norm((await emb(['du'])).stdout));
  });

  test('a build through the daemon; its rebuild transfers no context bytes and is all CACHED', async () => {
    const ctx = join(dir, 'ctx');
    const r = await remote(['build', '--progress=plain', '-t', 'app:remote', ctx]);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stderr).toMatch(/transferred \d+ bytes \(\d+ files\) of \d+ bytes \(\d+ files\), listing: \d+ entries/);
    const again = await remote(['build', '--progress=plain', '-t', 'app:remote', ctx]);
    expect(again.code).toBe(0);
    // A build into the image store needs no scratch directory: a third one makes (and removes)
    // nothing in solve/ (the second made the context journal's directory there).
    const solveDir = await stat(join(dRoot, 'solve'));
    expect((await remote(['build', '--progress=quiet', '-t', 'app:remote', ctx])).code).toBe(0);
    expect((await stat(join(dRoot, 'solve'))).mtimeMs).toBe(solveDir.mtimeMs);
    // Only the listing's digest travelled: the daemon's copy already matched it.
    expect(again.stderr).toMatch(/transferred 0 bytes \(0 files\) of \d+ bytes \(\d+ files\), listing unchanged/);
    expect(again.stderr).toMatch(/steps: (\d+) total, \1 cached, 0 executed/);
    // No build's scratch directory is left once its call has ended.
    expect((await readdir(join(dRoot, 'solve'))).filter((n) => n.startsWith('build-'))).toEqual([]);
    expect((await remote(['images'])).stdout).toMatch(/^app\s+remote\s/m);
  });

  test('pull through the daemon fails as embedded does: same line, same exit code', async () => {
    const [e, d] = await both(['pull', 'localhost:1/nothing:1']);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/^error: .*localhost:1/);
    expect([d.code, d.stderr]).toEqual([e.code, e.stderr]);
  });

  test('the CLI talking to a daemon does not load the engine nor grpc-js, nor what only other commands need', async () => {
    // The CLI's bundle (scripts/bundle.mjs) holds no engine and no grpc-js: the engine is a bundle
    // of its own, read only to build in-process; the CLI has its own transport (src/client/h2).
    const bin = join(repoRoot, 'dist', 'bin');
    // The bundles are minified (no module paths left in the code): the source map lists what went in.
    const cli = await readFile(join(bin, 'tsbuild-cli.cjs'), 'latin1');
    const sources = (JSON.parse(await readFile(join(bin, 'tsbuild-cli.cjs.map'), 'utf8')) as { sources: string[] }).sources;
    expect(sources).toContain('../../src/client/grpc-solve.ts');
    expect([cli.includes('better-sqlite3'), sources.filter((f) => /node_modules\/@grpc\/grpc-js\/|\/src\/(solver|engine|worker)\//.test(f))]).toEqual([false, []]);
    expect((await readFile(join(bin, 'tsbuild-engine.cjs'), 'latin1')).includes('better-sqlite3')).toBe(true);
    // And at run time: a build through the daemon runs no engine bundle, loads no native add-on
    // and no Node module that only other commands or outputs need (child processes, workers, zlib).
    const ctx = join(dir, 'ctx');
    const report = join(dir, 'loaded.json');
    const hook = join(dir, 'loaded-hook.cjs');
    // It also counts the errors whose stack got formatted: none on a successful build (an AbortError
    // made when the Solve call was destroyed half-open cost each build's tail its formatting); and
    // notes whether the event loop ran empty: with nothing left but the connection closing, the CLI
    // exits at once (cmd/tsbuild.ts), before V8's idle-time scavenge and 'beforeExit'.
    await writeFile(hook, [
      'let stacks = 0;',
      'let beforeExit = false;',
      "process.on('beforeExit', () => { beforeExit = true; });",
      "Error.prepareStackTrace = (e, sites) => { stacks++; return `${String(e)}\\n${sites.map((s) => `    at ${String(s)}`).join('\\n')}`; };",
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, JSON.stringify({ builtins: process.moduleLoadList, required: Object.keys(require('node:module')._cache), stacks, beforeExit })));`,
      '',
    ].join('\n'));
    // With the files a CI asks for: they are written synchronously (no fs/promises, no thread pool).
    const meta = join(dir, 'meta.json');
    const iid = join(dir, 'iid');
    const r = await remote(['build', '-q', '-t', 'app:1', '--metadata-file', meta, '--iidfile', iid, ctx], { NODE_OPTIONS: `--require ${hook}` });
    expect([r.code, r.stderr]).toEqual([0, '']);
    // The image id still reaches standard output whole.
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(await readFile(iid, 'utf8')).toBe(r.stdout.trim());
    expect((JSON.parse(await readFile(meta, 'utf8')) as Record<string, unknown>)['containerimage.config.digest']).toBe(r.stdout.trim());
    const loaded = JSON.parse(await readFile(report, 'utf8')) as { builtins: string[]; required: string[]; stacks: number; beforeExit: boolean };
    expect([loaded.stacks, loaded.beforeExit]).toEqual([0, false]);
    // The engine bundle, once run, requires better-sqlite3 and the other add-ons from node_modules.
    // The launcher itself (the main module, dist/bin/tsbuild.cjs) is the only file in the cache.
    expect(loaded.required.filter((f) => f !== hook && f !== cliPath)).toEqual([]);
    expect(loaded.builtins.filter((m) => /^NativeModule (child_process|worker_threads|zlib|sqlite)$/.test(m))).toEqual([]);
    // Over a unix socket the CLI speaks HTTP/2 itself (src/client/h2/connection.ts): no node:http2
    // (nor the http, tls and assert it loads); and a build whose listing is not asked for hashes
    // nothing with node:crypto (its context key is a plain-JS SHA-256); nor does it load
    // node:fs/promises (and the fs/dir, watcher and readline modules it brings): the client reads the
    // Dockerfile and the ignore file synchronously, and reaches fs/promises through node:fs's getter.
    expect(loaded.builtins.filter((m) => /^NativeModule (http2|http|tls|assert|crypto|fs\/promises|internal\/readline\/interface)$/.test(m))).toEqual([]);
  });

  test('a 24 MiB file travels into the context whole, and back whole in a local output (flow control both ways)', async () => {
    const ctx = join(dir, 'big-ctx');
    const out = join(dir, 'big-out');
    await mkdir(ctx);
    const big = randomBytes(24 * 1024 * 1024);
    const hex = createHash('sha256').update(big).digest('hex');
    await writeFile(join(ctx, 'big.bin'), big);
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${BASE}\nCOPY big.bin /big.bin\nRUN sha256sum /big.bin\n`);
    const r = await remote(['build', '--progress=plain', '-o', `type=local,dest=${out}`, ctx]);
    expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stderr).toContain(`${hex}  /big.bin`);
    expect(createHash('sha256').update(await readFile(join(out, 'big.bin'))).digest('hex')).toBe(hex);
  }, 180_000);

  // A quiet build asks the daemon to send progress only if it fails (BuildStart.progress_on_failure).
  test('build -q: a failed step shows as embedded; with --expect-cached the steps that ran are still seen', async () => {
    const ctx = join(dir, 'quiet-ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'a.txt'), 'hello\n');
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${BASE}\nCOPY a.txt /a.txt\nRUN echo going down && exit 3\n`);
    const [e, d] = await both(['build', '-q', ctx]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain('going down');
    // A log line's time since its step started differs from run to run.
    const box = (r: CliResult): string => norm(r.stderr).replace(/^\d+\.\d+ /gm, 'T ');
    expect({ code: d.code, stdout: d.stdout, stderr: box(d) }).toEqual({ code: e.code, stdout: e.stdout, stderr: box(e) });
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${BASE}\nCOPY a.txt /a.txt\nRUN echo quiet > /q.txt\n`);
    const miss = await remote(['build', '-q', '--expect-cached', ctx]);
    expect(miss.code).toBe(1);
    expect(miss.stderr.trim().split('\n').at(-1)).toMatch(/^error: expected a cached build, but step "RUN echo quiet > \/q.txt" executed/);
  }, 180_000);
});
