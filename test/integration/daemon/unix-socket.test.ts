/**
 * The real tsbuildd on a unix socket in a temp dir: socket mode 0660, Info end to end, the other
 * RPCs UNIMPLEMENTED with a typed error, health, reflection, SIGTERM (exit 0, socket removed), a
 * second daemon refused on a live socket, and a clean restart after SIGKILL (stale socket removed).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
// Adds Root.fromDescriptor.
import 'protobufjs/ext/descriptor/index.js';
import { ControlService } from '../../../src/client/gen/control-grpc.js';
import { HealthService } from '../../../src/client/gen/health-grpc.js';
import { errorFromStatus } from '../../../src/client/grpc-errors.js';
import { TsbuildError } from '../../../src/util/errors.js';
import { VERSION } from '../../../src/version.js';
import { runDaemonToExit, startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { callError, connect, reflect, serverStream, unary, type TestClient } from '../../helpers/grpc.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuildd-unix-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tsbuildd on a unix socket', () => {
  let daemon: DaemonProcess;
  let c: TestClient;
  let sock: string;
  let root: string;

  beforeAll(async () => {
    sock = join(dir, 'run', 'nested', 'tsbuildd.sock');
    root = join(dir, 'root');
    daemon = await startDaemon(['--addr', `unix://${sock}`, '--root', root, '--max-parallelism', '3', '--gc-keep-storage', '2GB']);
    c = connect(`unix://${sock}`);
  });
  afterAll(async () => {
    c?.close();
    if (daemon) await daemon.stop('SIGKILL');
  });

  test('creates the socket (and its directory) with mode 0660', () => {
    expect(daemon.addresses).toEqual([`unix://${sock}`]);
    const st = lstatSync(sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
  });

  test('Info reports version, runc, kernel, data root, features, config and uptime', async () => {
    const info = await unary(c, ControlService.Info, {});
    expect(info.version).toBe(VERSION);
    expect(info.kernel).toBe(release());
    expect(info.platform).toBe('linux/amd64');
    expect(info.dataRoot).toBe(root);
    expect(existsSync(root)).toBe(true);
    const runc = (() => {
      try {
        return /runc version (\S+)/.exec(execFileSync('runc', ['--version'], { encoding: 'utf8' }))?.[1] ?? '';
      } catch {
        return '';
      }
    })();
    expect(info.runcVersion).toBe(runc);
    expect(info.features?.rpcs).toEqual(['Solve', 'Status', 'ListBuilds', 'DiskUsage', 'Prune', 'ListImages', 'RemoveImage', 'TagImage', 'Inspect', 'History', 'Info', 'Pull', 'Push', 'Load', 'Import', 'Check', 'Repair', 'Save']);
    expect(info.features?.outputs).toEqual(expect.arrayContaining(['image', 'oci', 'docker', 'local', 'tar', 'registry']));
    expect(info.features?.networkModes).toEqual(['default', 'none', 'host']);
    expect(info.features?.auth).toEqual([]);
    expect(info.config?.maxParallelism).toBe(3);
    expect(info.config?.gcKeepStorage).toBe(2 * 1024 ** 3);
    expect(info.config?.addresses).toEqual([`unix://${sock}`]);
    expect(info.limits?.maxMessageBytes).toBe(16 * 1024 * 1024);
    expect(info.pid).toBe(daemon.child.pid);
    expect(info.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(Math.abs(Date.now() - (info.startedMs ?? 0))).toBeLessThan(60_000);
  });

  test('ListBuilds lists no build on an idle daemon; Status of an unknown ref is NOT_FOUND with a typed error', async () => {
    expect((await unary(c, ControlService.ListBuilds, {})).builds).toEqual([]);
    const status = await serverStream(c, ControlService.Status, { ref: 'x' });
    expect(status.error?.code).toBe(Status.NOT_FOUND);
    const typed = errorFromStatus(status.error);
    expect(typed).toBeInstanceOf(TsbuildError);
    expect(typed).toMatchObject({ code: 'BUILD_NOT_FOUND', message: 'no running build has ref "x"' });
  });

  test('the image RPCs answer from the engine; a domain error keeps its code and message', async () => {
    expect((await unary(c, ControlService.ListImages, {})).images).toEqual([]);
    const err = await callError(unary(c, ControlService.Inspect, { name: 'nope:1' }));
    expect(err.code).toBe(Status.NOT_FOUND);
    expect(errorFromStatus(err)).toMatchObject({ code: 'IMAGE_NOT_FOUND', message: 'No such image: nope:1' });
    const prune = await serverStream(c, ControlService.Prune, {});
    expect(prune.error).toBeUndefined();
    expect(prune.messages).toEqual([expect.objectContaining({ summary: expect.objectContaining({ records: 0 }) })]);
  });

  test('health: SERVING for the daemon and the Control service, NOT_FOUND for others', async () => {
    expect((await unary(c, HealthService.Check, { service: '' })).status).toBe(1);
    expect((await unary(c, HealthService.Check, { service: 'tsbuild.control.v1.Control' })).status).toBe(1);
    const err = await callError(unary(c, HealthService.Check, { service: 'nope' }));
    expect(err.code).toBe(Status.NOT_FOUND);
  });

  test('reflection lists the services and serves a descriptor a protobuf library can load', async () => {
    const list = await reflect(c, { listServices: '*' });
    const names = (list['listServicesResponse'] as { service: { name: string }[] }).service.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['tsbuild.control.v1.Control', 'grpc.health.v1.Health']));
    const file = await reflect(c, { fileContainingSymbol: 'tsbuild.control.v1.Control' });
    const protos = (file['fileDescriptorResponse'] as { fileDescriptorProto: Buffer[] }).fileDescriptorProto;
    // A FileDescriptorSet is `repeated FileDescriptorProto file = 1`.
    const set = protobuf.Writer.create();
    for (const p of protos) set.uint32(10).bytes(p);
    const rebuilt = (protobuf.Root as unknown as { fromDescriptor(s: Uint8Array): protobuf.Root }).fromDescriptor(set.finish());
    const svc = rebuilt.lookupService('tsbuild.control.v1.Control');
    expect(Object.keys(svc.methods).sort()).toEqual(Object.keys(ControlService).sort());
    expect(svc.methods['Solve']?.requestStream && svc.methods['Solve']?.responseStream).toBe(true);
  });

  test('a second daemon on the same live socket is refused and the first keeps serving', async () => {
    const second = await runDaemonToExit(['--addr', `unix://${sock}`, '--root', root]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another daemon is listening on unix:\/\//);
    expect((await unary(c, ControlService.Info, {})).version).toBe(VERSION);
  });
});

describe('tsbuildd stop and restart', () => {
  test('SIGTERM exits 0 and removes the socket file', async () => {
    const sock = join(dir, 'term.sock');
    const d = await startDaemon(['--addr', `unix://${sock}`, '--root', join(dir, 'root')]);
    const c = connect(`unix://${sock}`);
    try {
      await unary(c, ControlService.Info, {});
    } finally {
      c.close();
    }
    const exit = await d.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(existsSync(sock)).toBe(false);
    expect(d.stderr()).toMatch(/SIGTERM: stopping/);
  });

  test('a Watch stream in flight gets NOT_SERVING and does not hold the stop up', async () => {
    const sock = join(dir, 'watch.sock');
    const d = await startDaemon(['--addr', `unix://${sock}`, '--root', join(dir, 'root')]);
    const c = connect(`unix://${sock}`);
    try {
      let first!: () => void;
      const gotFirst = new Promise<void>((resolve) => (first = resolve));
      const watch = serverStream(c, HealthService.Watch, { service: '' }, () => first());
      await gotFirst;
      const exit = await d.stop('SIGTERM');
      expect(exit.code).toBe(0);
      const { messages } = await watch;
      expect(messages.map((m) => m.status)).toEqual([1, 2]);
    } finally {
      c.close();
    }
  });

  test('after SIGKILL the stale socket is removed and a new daemon serves on it', async () => {
    const sock = join(dir, 'kill.sock');
    const first = await startDaemon(['--addr', `unix://${sock}`, '--root', join(dir, 'root')]);
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');
    expect(lstatSync(sock).isSocket()).toBe(true);
    const second = await startDaemon(['--addr', `unix://${sock}`, '--root', join(dir, 'root')]);
    const c = connect(`unix://${sock}`);
    try {
      expect((await unary(c, ControlService.Info, {})).pid).toBe(second.child.pid);
    } finally {
      c.close();
      expect((await second.stop()).code).toBe(0);
    }
  });

  test('--socket-group sets the socket\'s group; an unknown group name is a usage error', async () => {
    const sock = join(dir, 'group.sock');
    const d = await startDaemon(['--addr', `unix://${sock}`, '--root', join(dir, 'root'), '--socket-group', '4242']);
    try {
      expect(lstatSync(sock).gid).toBe(4242);
      expect(lstatSync(sock).mode & 0o777).toBe(0o660);
    } finally {
      expect((await d.stop()).code).toBe(0);
    }
    const bad = await runDaemonToExit(['--addr', `unix://${sock}`, '--root', join(dir, 'root'), '--socket-group', 'no-such-group-here']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no such group/);
  });

  test('--max-message-size: a larger request is RESOURCE_EXHAUSTED and the daemon keeps serving', async () => {
    const sock = join(dir, 'limit.sock');
    const d = await startDaemon(['--addr', `unix://${sock}`, '--root', join(dir, 'root'), '--max-message-size', '64KiB']);
    const c = connect(`unix://${sock}`);
    try {
      const big = await callError(unary(c, ControlService.Inspect, { name: 'x'.repeat(100 * 1024) }));
      expect(big.code).toBe(Status.RESOURCE_EXHAUSTED);
      const fits = await callError(unary(c, ControlService.Inspect, { name: 'x'.repeat(60 * 1024) }));
      expect(fits.code).not.toBe(Status.RESOURCE_EXHAUSTED);
      expect((await unary(c, ControlService.Info, {})).limits?.maxMessageBytes).toBe(64 * 1024);
    } finally {
      c.close();
      expect((await d.stop()).code).toBe(0);
    }
  });

  test('a path that is not a socket is left alone and the daemon refuses to start', async () => {
    const path = join(dir, 'not-a-socket');
    writeFileSync(path, 'keep me');
    const r = await runDaemonToExit(['--addr', `unix://${path}`, '--root', join(dir, 'root')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/exists and is not a socket/);
    expect(lstatSync(path).isFile()).toBe(true);
  });
});
