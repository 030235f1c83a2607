/**
 * A GrpcClient talking to a real, built tsbuildd (dist/bin/tsbuildd.mjs) started on a data root,
 * listening on a unix socket beside it: the gRPC client's factory for the contract suite. Closing
 * the client also stops the daemon (SIGTERM; it must exit 0).
 */
import { dirname, join } from 'node:path';
import { GrpcClient } from '../../src/client/grpc-client.js';
import type { Client } from '../../src/client/types.js';
import { startDaemon } from '../helpers/daemon.js';

export async function grpcClientOnDaemon(root: string): Promise<Client> {
  const sock = join(dirname(root), 'tsbuildd.sock');
  const daemon = await startDaemon(['--addr', `unix://${sock}`, '--root', root]);
  const client = await GrpcClient.connect({ address: `unix://${sock}` });
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'close') {
        return async () => {
          await target.close();
          const exit = await daemon.stop();
          if (exit.code !== 0) throw new Error(`tsbuildd exited with ${exit.code ?? exit.signal}; stderr:\n${daemon.stderr()}`);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
