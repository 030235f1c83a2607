/**
 * tsbuildd with --token-file: no token or a wrong one is UNAUTHENTICATED; a readonly token may call
 * Info and Check but not Solve, Prune, Repair, Pull, Push, Load or Import (PERMISSION_DENIED); an admin token passes (those RPCs then answer
 * UNIMPLEMENTED until the engine is wired); health needs no token; SIGHUP re-reads the file; a bad
 * file stops the start-up with exit 2.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { ControlService } from '../../../src/client/gen/control-grpc.js';
import { HealthService } from '../../../src/client/gen/health-grpc.js';
import { errorFromStatus } from '../../../src/client/grpc-errors.js';
import { GrpcClient } from '../../../src/client/grpc-client.js';
import type { TsbuildError } from '../../../src/util/errors.js';
import { runDaemonToExit, startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { callError, connect, reflect, unary, type TestClient } from '../../helpers/grpc.js';

const ADMIN = 'admin-token-0123456789abcdef';
const READER = 'reader-token-0123456789abcdef';
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

let dir: string;
let daemon: DaemonProcess;
let sock: string;
let tokenFile: string;
const clients: TestClient[] = [];

function client(token?: string): TestClient {
  const c = connect(`unix://${sock}`, token === undefined ? {} : { token });
  clients.push(c);
  return c;
}

/** A Solve call that sends `start` and half-closes; resolves with how it ended. */
function solve(c: TestClient): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    const m = ControlService.Solve;
    const call = c.client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, c.metadata(), { deadline: new Date(Date.now() + 15_000) });
    call.on('data', () => undefined);
    call.on('status', (s: { code: number; details: string }) => resolve(s));
    call.on('error', () => undefined);
    call.write({ start: { dockerfile: { content: Buffer.from('FROM scratch\n'), name: 'Dockerfile' } } });
    call.end();
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuildd-tokens-'));
  sock = join(dir, 'tsbuildd.sock');
  tokenFile = join(dir, 'tokens');
  writeFileSync(tokenFile, `# CI tokens\n${ADMIN} admin ci-admin\n\nsha256:${sha256(READER)} readonly dashboards\n`, { mode: 0o600 });
  daemon = await startDaemon(['--addr', `unix://${sock}`, '--root', join(dir, 'root'), '--token-file', tokenFile]);
});
afterAll(async () => {
  for (const c of clients) c.close();
  if (daemon) await daemon.stop('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('tsbuildd --token-file', () => {
  test('a call without a token is UNAUTHENTICATED, with a typed error saying how to authenticate', async () => {
    const err = await callError(unary(client(), ControlService.Info, {}));
    expect(err.code).toBe(Status.UNAUTHENTICATED);
    const typed = errorFromStatus(err) as TsbuildError;
    expect(typed.code).toBe('UNAUTHENTICATED');
    expect(typed.message).toMatch(/authorization: Bearer TOKEN/);
  });

  test('a wrong token is UNAUTHENTICATED', async () => {
    const err = await callError(unary(client('not-a-valid-token-at-all'), ControlService.Info, {}));
    expect(err.code).toBe(Status.UNAUTHENTICATED);
    expect(err.details).toBe('invalid bearer token');
  });

  test('a readonly token may call Info but not Solve or Prune', async () => {
    const c = client(READER);
    const info = await unary(c, ControlService.Info, {});
    expect(info.features?.auth).toEqual(['token']);
    const prune = await callError(new Promise((resolve, reject) => {
      const m = ControlService.Prune;
      const call = c.client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, {}, c.metadata());
      call.on('data', () => undefined);
      call.on('error', reject);
      call.on('end', resolve);
    }));
    expect(prune.code).toBe(Status.PERMISSION_DENIED);
    expect((errorFromStatus(prune) as TsbuildError).message).toBe('Prune needs the admin role; dashboards has read-only access');
    const s = await solve(c);
    expect(s.code).toBe(Status.PERMISSION_DENIED);
    const rm = await callError(unary(c, ControlService.RemoveImage, { name: 'x' }));
    expect(rm.code).toBe(Status.PERMISSION_DENIED);
  });

  test('a readonly token may Check the cache but not Repair it, Pull, Push, Load or Import', async () => {
    const reader = await GrpcClient.connect({ address: `unix://${sock}`, token: READER });
    try {
      const signal = AbortSignal.timeout(60_000);
      expect(await reader.check({}, { signal })).toMatchObject({ ok: true, problems: [] });
      const archive = join(dir, 'some.tar');
      writeFileSync(archive, 'not read: the call is refused first');
      const calls: [string, () => Promise<unknown>][] = [
        ['Repair', () => reader.repair({}, { signal })],
        ['Pull', () => reader.pull({ ref: '127.0.0.1:9/team/app:1' }, { signal })],
        ['Push', () => reader.push({ name: '127.0.0.1:9/team/app:1' }, { signal })],
        ['Load', () => reader.loadImages({ source: archive }, { signal })],
        ['Import', () => reader.importImage({ source: archive, name: 'app:1' }, { signal })],
      ];
      for (const [method, call] of calls) {
        const err = await call().then(() => undefined, (e: unknown) => e);
        expect([method, err]).toEqual([method, expect.objectContaining({ code: 'PERMISSION_DENIED', message: `${method} needs the admin role; dashboards has read-only access` })]);
      }
    } finally {
      await reader.close();
    }
  });

  test('an admin token passes authorization (Solve runs; this empty request is not a build)', async () => {
    const c = client(ADMIN);
    expect((await unary(c, ControlService.Info, {})).version).toBeTruthy();
    const code = (await solve(c)).code;
    expect([Status.UNAUTHENTICATED, Status.PERMISSION_DENIED]).not.toContain(code);
  });

  test('health checks need no token; reflection needs one', async () => {
    expect((await unary(client(), HealthService.Check, { service: '' })).status).toBe(1);
    await expect(reflect(client(), { listServices: '*' })).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
    const list = await reflect(client(READER), { listServices: '*' });
    expect(JSON.stringify(list)).toMatch(/tsbuild\.control\.v1\.Control/);
  });

  test('SIGHUP re-reads the token file; a broken file keeps the old tokens', async () => {
    const NEW = 'rotated-token-0123456789abcdef';
    writeFileSync(tokenFile, `${NEW} admin ci-admin\n`);
    daemon.child.kill('SIGHUP');
    await daemon.waitForLog(/reloaded 1 token\(s\)/);
    expect((await callError(unary(client(ADMIN), ControlService.Info, {}))).code).toBe(Status.UNAUTHENTICATED);
    expect((await unary(client(NEW), ControlService.Info, {})).version).toBeTruthy();
    writeFileSync(tokenFile, `${NEW} superuser\n`);
    daemon.child.kill('SIGHUP');
    await daemon.waitForLog(/SIGHUP: kept the old tokens: .*unknown role "superuser"/);
    expect((await unary(client(NEW), ControlService.Info, {})).version).toBeTruthy();
  });
});

describe('tsbuildd --token-file start-up errors', () => {
  test.each([
    ['an unknown role', 'some-long-token-value-123 owner\n', /bad-tokens:1: unknown role "owner"/],
    ['a short token', '# comment\nshort admin\n', /bad-tokens:2: token too short/],
    ['no tokens', '# nothing\n', /bad-tokens: no tokens/],
  ])('%s is a usage error', async (_what, text, re) => {
    const bad = join(dir, 'bad-tokens');
    writeFileSync(bad, text);
    const r = await runDaemonToExit(['--addr', `unix://${join(dir, 'bad.sock')}`, '--root', join(dir, 'root'), '--token-file', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(re);
  });
});
