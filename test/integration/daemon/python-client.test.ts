/**
 * A non-TypeScript client: examples/grpc-python/info.py (the script docs/grpc.md shows) calls Info
 * with Python's grpcio over the unix socket, with stubs generated from proto/control.proto at test
 * time by grpc_tools.protoc; against a token-protected daemon it reads the ErrorDetail trailer.
 * examples/grpc-python/build.py builds a Dockerfile (the context sent as one tar) and gets the same
 * image the CLI sees, all cached the second time, and a Dockerfile error with its location.
 * Needs Debian's python3-grpcio and python3-grpc-tools (scripts/install-deps.sh).
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VERSION } from '../../../src/version.js';
import { startDaemon } from '../../helpers/daemon.js';
import { repoRoot } from '../../helpers/paths.js';
import { describeIf, haveBinary, isRoot } from '../../helpers/skip.js';
import { BASE, busyboxTar } from '../../helpers/build-env.js';
import { haveBusybox } from '../../helpers/busybox.js';
import { runTsbuild } from '../../helpers/cli.js';

const script = join(repoRoot, 'examples', 'grpc-python', 'info.py');
const buildScript = join(repoRoot, 'examples', 'grpc-python', 'build.py');

/** A python3 that has grpcio and grpc_tools (Debian's, before whatever else is first on PATH). */
function findPython(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(py, ['-c', 'import grpc, grpc_tools.protoc'], { stdio: 'ignore' });
      return py;
    } catch {
      /* next */
    }
  }
  return undefined;
}
const python = findPython();

describeIf(python !== undefined, 'needs python3 with grpcio and grpc_tools (Debian: python3-grpcio python3-grpc-tools)', 'a Python grpcio client', () => {
  let dir: string;
  let gen: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuildd-py-'));
    gen = join(dir, 'gen');
    await mkdir(gen);
    execFileSync(python as string, ['-m', 'grpc_tools.protoc', '-I', join(repoRoot, 'proto'), `--python_out=${gen}`, `--grpc_python_out=${gen}`, join(repoRoot, 'proto', 'control.proto')], { stdio: 'pipe' });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const runScript = (args: string[]) => spawnSync(python as string, [script, ...args], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: gen }, timeout: 60_000 });

  test('calls Info over the unix socket', async () => {
    const sock = join(dir, 'd.sock');
    const d = await startDaemon(['--addr', `unix://${sock}`, '--root', join(dir, 'root')]);
    try {
      const r = runScript([`unix://${sock}`]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const info = JSON.parse(r.stdout) as { version: string; data_root: string; rpcs: string[] };
      expect(info).toMatchObject({ version: VERSION, data_root: join(dir, 'root'), rpcs: expect.arrayContaining(['Info', 'ListImages']) });
    } finally {
      expect((await d.stop()).code).toBe(0);
    }
  });

  test('sends a bearer token, and decodes the error trailer when it is missing', async () => {
    const sock = join(dir, 't.sock');
    const tokens = join(dir, 'tokens');
    writeFileSync(tokens, 'python-ci-token-0123456789 readonly py\n', { mode: 0o600 });
    const d = await startDaemon(['--addr', `unix://${sock}`, '--root', join(dir, 'root'), '--token-file', tokens]);
    try {
      const denied = runScript([`unix://${sock}`]);
      expect(denied.status).toBe(1);
      expect(denied.stderr).toMatch(/^UNAUTHENTICATED: UNAUTHENTICATED: this daemon needs a bearer token/);
      const ok = runScript([`unix://${sock}`, 'python-ci-token-0123456789']);
      expect(ok.status).toBe(0);
      expect(JSON.parse(ok.stdout).version).toBe(VERSION);
    } finally {
      expect((await d.stop()).code).toBe(0);
    }
  });

  test('docs/grpc.md shows the scripts as they are tested', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'grpc.md'), 'utf8');
    expect(doc).toContain(readFileSync(script, 'utf8'));
    expect(doc).toContain(readFileSync(buildScript, 'utf8'));
  });

  (isRoot && haveBinary('runc') && haveBusybox ? test : test.skip)('builds a Dockerfile: the image the CLI lists, cached the second time, errors located', async () => {
    const root = join(dir, 'build-root');
    const imported = await runTsbuild(['--root', root, 'image', 'import', await busyboxTar(), BASE]);
    expect(imported.code).toBe(0);
    const ctx = join(dir, 'ctx');
    await mkdir(join(ctx, 'sub'), { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BASE}\nCOPY . /app\nRUN cat /app/sub/msg.txt\n`);
    writeFileSync(join(ctx, 'sub', 'msg.txt'), 'hello from python\n');
    const sock = join(dir, 'b.sock');
    const d = await startDaemon(['--addr', `unix://${sock}`, '--root', root]);
    try {
      const py = (args: string[]) => spawnSync(python as string, [buildScript, ...args], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: gen }, timeout: 300_000 });
      const first = py([`unix://${sock}`, ctx, 'pyapp:1']);
      expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: '' });
      expect(first.stdout).toMatch(/^build ref [0-9a-f]+\n/);
      expect(first.stdout).toContain('  | hello from python');
      expect(first.stdout).toMatch(/steps: \d+ total, \d+ cached, [1-9]\d* executed/);
      const id = /image pyapp:1 (sha256:[0-9a-f]{64})/.exec(first.stdout)?.[1];
      expect(id).toBeDefined();
      const listed = await runTsbuild(['--addr', `unix://${sock}`, 'images', '--no-trunc', '--format', 'json']);
      const row = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { Repository: string; Tag: string; ID: string }).find((r) => r.Repository === 'pyapp');
      expect(row).toMatchObject({ Tag: '1', ID: id });

      const again = py([`unix://${sock}`, ctx, 'pyapp:1']);
      expect(again.status).toBe(0);
      // A tar context is a fresh copy each time (its transfer step runs); every Dockerfile step is cached.
      expect(again.stdout.match(/^CACHED +\[\d\/3\] /gm)).toHaveLength(3);
      expect(again.stdout).not.toMatch(/^COMPLETED +\[\d\/3\] /m);
      expect(again.stdout).toContain(`image pyapp:1 ${id as string}`);

      writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BASE}\nRUNN echo typo\n`);
      const bad = py([`unix://${sock}`, ctx, 'pyapp:2']);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/^INVALID_ARGUMENT: Dockerfile:2: DOCKERFILE_\w+: .*RUNN/);
    } finally {
      expect((await d.stop()).code).toBe(0);
    }
  }, 600_000);
});
