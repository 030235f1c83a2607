/**
 * The daemon's Solve handler on a real gRPC server on a unix socket (through calls.ts, the adapter
 * every daemon call passes through) with a real engine, and the CLI's own transport to it: what
 * tsbuildd serves, without the process. Every other call answers "not implemented".
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ControlService } from '../../src/client/gen/control-grpc.js';
import { H2Channel } from '../../src/client/h2/channel.js';
import { Authorizer } from '../../src/control/auth.js';
import { BuildSlots } from '../../src/control/build-slots.js';
import { adaptService } from '../../src/control/calls.js';
import { DaemonErrors } from '../../src/control/errors.js';
import { InFlightCalls } from '../../src/control/in-flight.js';
import { RunningBuilds } from '../../src/control/running-builds.js';
import { solveHandler } from '../../src/control/solve-handler.js';
import type { ServiceHandlers } from '../../src/control/types.js';
import type { Engine } from '../../src/engine/index.js';

export interface SolveServer {
  /** The CLI's channel to the server's socket. */
  readonly channel: H2Channel;
  close(): Promise<void>;
}

/** Serves Solve for `engine` (data root `root`) on a socket in a new temp dir, removed by close(). */
export async function serveSolve(engine: Engine, root: string): Promise<SolveServer> {
  const reject = (): Promise<never> => Promise.reject(DaemonErrors.notImplemented('test'));
  const handlers: ServiceHandlers<typeof ControlService> = {
    Solve: solveHandler({ engine, dataRoot: root, buildSlots: new BuildSlots(0), maxContextBytes: 0, builds: new RunningBuilds(), allowedEntitlements: [] }),
    Status: reject, ListBuilds: reject, DiskUsage: reject, Prune: reject, ListImages: reject, RemoveImage: reject,
    TagImage: reject, Inspect: reject, History: reject, Info: reject, Pull: reject, Push: reject, Load: reject, Import: reject,
    Check: reject, Repair: reject, Save: reject,
  };
  const server = new Server();
  server.addService(ControlService, adaptService(ControlService, handlers, { authorizer: new Authorizer(undefined), inFlight: new InFlightCalls() }));
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-solve-'));
  try {
    await new Promise<void>((res, rej) => server.bindAsync(`unix://${join(dir, 'd.sock')}`, ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const channel = new H2Channel({ target: { kind: 'unix', path: join(dir, 'd.sock') } });
  return {
    channel,
    async close() {
      channel.close();
      await new Promise<void>((r) => server.tryShutdown(() => r()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
