/**
 * Secret and SSH mounts: id resolution, required/optional. The secrets come from the lookup the
 * CLI hands the engine (src/client/secrets.ts; its flag parsing is tested in test/client).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSecretEnv, resolveSecretMount, resolveSshMount, type SecretProvider } from '../../../src/worker/exec/secrets.js';
import { secretLookup } from '../../../src/client/secrets.js';

const signal = AbortSignal.timeout(10_000);

describe('secrets', () => {
  let dir: string;
  let store: SecretProvider;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-secrets-'));
    await writeFile(join(dir, 'token'), 'file-secret');
    const sources = new Map([
      ['tok', { kind: 'file', path: join(dir, 'token') }],
      ['envtok', { kind: 'env', name: 'MY_TOKEN' }],
      ['unset', { kind: 'env', name: 'NOT_SET' }],
      ['gone', { kind: 'file', path: join(dir, 'missing') }],
    ] as const);
    store = { get: secretLookup(sources, { MY_TOKEN: 'env-secret' }) };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a secret mount resolves to its bytes with defaults', async () => {
    expect(await resolveSecretMount({ id: 'tok', required: true }, store, signal)).toEqual({
      kind: 'secret', target: '/run/secrets/tok', data: Buffer.from('file-secret'), mode: 0o400, uid: 0, gid: 0,
    });
    const m = await resolveSecretMount({ id: 'envtok', required: false, target: '/k', mode: 0o440, uid: 1, gid: 2 }, store, signal);
    expect(m).toMatchObject({ target: '/k', mode: 0o440, uid: 1, gid: 2 });
    expect(Buffer.from(m?.data ?? []).toString()).toBe('env-secret');
  });

  test('required and missing is an error; optional and missing means no mount', async () => {
    await expect(resolveSecretMount({ id: 'nope', required: true }, store, signal)).rejects.toMatchObject({
      code: 'SECRET_NOT_FOUND', message: 'secret nope not found: pass it with --secret id=nope,src=PATH (or mark the mount required=false)',
    });
    await expect(resolveSecretMount({ id: 'unset', required: true }, store, signal)).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
    expect(await resolveSecretMount({ id: 'nope', required: false }, store, signal)).toBeUndefined();
    // A file that was named but is not there is always an error: the user asked for it.
    await expect(resolveSecretMount({ id: 'gone', required: false }, store, signal)).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
  });

  test('secrets as environment variables', async () => {
    expect(await resolveSecretEnv([
      { id: 'tok', name: 'A', required: true },
      { id: 'nope', name: 'B', required: false },
    ], store, signal)).toEqual({ A: 'file-secret' });
    await expect(resolveSecretEnv([{ id: 'nope', name: 'B', required: true }], store, signal)).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
  });
});

describe('ssh agents', () => {
  let dir: string;
  let server: Server;
  let sock: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-ssh-'));
    sock = join(dir, 'agent.sock');
    server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(sock, r));
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  test('an ssh mount resolves to the agent socket; required and missing is an error', async () => {
    const agents = new Map([['default', sock], ['bad', join(dir, 'nothing')]]);
    expect(await resolveSshMount({ required: true }, { agents, index: 0 })).toEqual({
      kind: 'ssh', target: '/run/buildkit/ssh_agent.0', socketPath: sock, mode: 0o600, uid: 0, gid: 0,
    });
    expect(await resolveSshMount({ id: 'x', required: false }, { agents, index: 1 })).toBeUndefined();
    await expect(resolveSshMount({ id: 'x', required: true }, { agents, index: 1 })).rejects.toMatchObject({ code: 'SSH_NOT_FOUND' });
    await expect(resolveSshMount({ id: 'bad', required: true }, { agents, index: 1 })).rejects.toMatchObject({ code: 'SSH_NOT_FOUND' });
  });
});
