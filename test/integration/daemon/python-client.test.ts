/**
 * A non-TypeScript client: examples/grpc-python/info.py (the script docs/grpc.md shows) calls Info
 * with Python's grpcio over the unix socket, with stubs generated from proto/control.proto at test
 * time by grpc_tools.protoc; against a token-protected daemon it reads the ErrorDetail trailer.
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
import { describeIf } from '../../helpers/skip.js';

const script = join(repoRoot, 'examples', 'grpc-python', 'info.py');

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

  test('docs/grpc.md shows the script as it is tested', () => {
    expect(readFileSync(join(repoRoot, 'docs', 'grpc.md'), 'utf8')).toContain(readFileSync(script, 'utf8'));
  });
});
