/**
 * The daemon's two-step stop, in process with slow handlers injected (the build RPCs are not wired
 * yet, so no real call runs long enough): a running call finishes while new ones are refused; past
 * --shutdown-timeout it is cancelled through its AbortSignal and the client gets CANCELLED with the
 * typed error; cancelNow() (the second SIGTERM) cancels without waiting.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { ControlService } from '../../src/client/gen/control-grpc.js';
import { errorFromStatus } from '../../src/client/grpc-errors.js';
import { controlHandlers, type ControlDeps } from '../../src/control/control-service.js';
import { Daemon } from '../../src/control/daemon.js';
import type { DaemonOptions } from '../../src/control/types.js';
import { CancelledError, throwIfAborted } from '../../src/util/errors.js';
import { callError, connect, unary, type TestClient } from '../helpers/grpc.js';

let dir: string;
let sock: string;
let logs: string[];
const clients: TestClient[] = [];

function options(shutdownTimeoutMs: number): DaemonOptions {
  return {
    addresses: [{ kind: 'unix', path: sock }],
    insecureTcp: false,
    allowedEntitlements: [],
    root: join(dir, 'root'),
    maxParallelism: 1,
    gcKeepStorage: 0,
    shutdownTimeoutMs,
    limits: { maxMessageBytes: 4 * 1024 * 1024, maxBuildsPerClient: 0, maxContextBytes: 0 },
  };
}

/** An Info that blocks until released or aborted; `entered` resolves when a call is inside it. */
function slowInfo(): { control: (deps: ControlDeps) => ReturnType<typeof controlHandlers>; entered: Promise<void>; release: () => void; reason: () => unknown } {
  let entered!: () => void;
  const enteredP = new Promise<void>((r) => (entered = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let reason: unknown;
  return {
    entered: enteredP,
    release,
    reason: () => reason,
    control: (deps) => ({
      ...controlHandlers(deps),
      Info: async (_req, ctx) => {
        entered();
        await new Promise<void>((resolve) => {
          void released.then(resolve);
          ctx.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        reason = ctx.signal.reason;
        throwIfAborted(ctx.signal);
        return deps.info(ctx.signal);
      },
    }),
  };
}

function client(): TestClient {
  const c = connect(`unix://${sock}`);
  clients.push(c);
  return c;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuildd-stop-'));
  sock = join(dir, 'd.sock');
  logs = [];
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Daemon.shutdown', () => {
  test('lets a running call finish, refuses new ones, then removes the socket', async () => {
    const slow = slowInfo();
    const d = await Daemon.start(options(60_000), { log: (l) => logs.push(l), control: slow.control });
    const running = unary(client(), ControlService.Info, {});
    await slow.entered;
    const stopped = d.shutdown();
    expect((await callError(unary(client(), ControlService.Info, {}, 5_000))).code).toBe(Status.UNAVAILABLE);
    slow.release();
    expect((await running).dataRoot).toBe(join(dir, 'root'));
    await stopped;
    expect(slow.reason()).toBeUndefined();
    expect(existsSync(sock)).toBe(false);
    expect(logs.join('\n')).toMatch(/waiting up to 60s for 1 running call/);
  });

  test('cancels a call still running after the shutdown timeout; the client gets CANCELLED', async () => {
    const slow = slowInfo();
    const d = await Daemon.start(options(300), { log: (l) => logs.push(l), control: slow.control });
    const running = callError(unary(client(), ControlService.Info, {}));
    await slow.entered;
    const t0 = Date.now();
    await d.shutdown();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(slow.reason()).toBeInstanceOf(CancelledError);
    const err = await running;
    expect(err.code).toBe(Status.CANCELLED);
    const typed = errorFromStatus(err);
    expect(typed).toBeInstanceOf(CancelledError);
    expect((typed as CancelledError).message).toBe('cancelled: tsbuildd is shutting down');
    expect(logs.join('\n')).toMatch(/cancelling 1 running call/);
    expect(existsSync(sock)).toBe(false);
  });

  test('cancelNow (a second SIGTERM) cancels without waiting for the timeout', async () => {
    const slow = slowInfo();
    const d = await Daemon.start(options(600_000), { log: (l) => logs.push(l), control: slow.control });
    const running = callError(unary(client(), ControlService.Info, {}));
    await slow.entered;
    const stopped = d.shutdown();
    d.cancelNow();
    await stopped;
    expect((await running).code).toBe(Status.CANCELLED);
  });
});
