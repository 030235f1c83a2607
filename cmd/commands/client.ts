/** How commands reach the engine: always through the Client interface. */
import type { Client } from '../../src/client/types.js';
import { EmbeddedClient } from '../../src/client/embedded.js';
import type { CommandContext } from '../cli/command.js';

export interface ClientOptions {
  /** Commands that only read metadata skip the root/overlay/runc preflight. */
  readonly readOnly?: boolean;
  readonly maxParallelism?: number;
  /** The command needs no data root (parse, llb, login, logout): the engine is never opened. */
  readonly noEngine?: boolean;
}

export async function withClient<T>(ctx: CommandContext, opts: ClientOptions, fn: (c: Client) => Promise<T>): Promise<T> {
  const engine = {
    root: ctx.root,
    signal: ctx.signal,
    ...(opts.readOnly ? { skipPreflight: true } : {}),
    ...(opts.maxParallelism !== undefined ? { maxParallelism: opts.maxParallelism } : {}),
  };
  // Opened before the command runs, so preflight errors come before any progress output.
  const client = opts.noEngine ? new EmbeddedClient(engine) : await EmbeddedClient.open(engine);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
