/** How commands reach the engine: always through the Client interface. */
import type { Client } from '../../src/client/types.js';
import { EmbeddedClient } from '../../src/client/embedded.js';
import type { CommandContext } from '../cli/command.js';

export interface ClientOptions {
  /** Commands that only read metadata skip the root/overlay/runc preflight. */
  readonly readOnly?: boolean;
  /** Recover what dead processes left before running the command. Default true. */
  readonly recover?: boolean;
  readonly maxParallelism?: number;
}

export async function withClient<T>(ctx: CommandContext, opts: ClientOptions, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = await EmbeddedClient.open({
    root: ctx.root,
    signal: ctx.signal,
    ...(opts.readOnly ? { skipPreflight: true } : {}),
    ...(opts.recover === false ? { recover: false } : {}),
    ...(opts.maxParallelism !== undefined ? { maxParallelism: opts.maxParallelism } : {}),
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
