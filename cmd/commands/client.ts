/**
 * How commands reach the engine: always through the Client interface. With `--addr` (or
 * TSBUILD_ADDR) a GrpcClient talks to that tsbuildd; otherwise an EmbeddedClient runs the engine
 * in this process. Each is loaded with `import()` when chosen, so talking to a daemon never loads
 * the engine (SQLite, parser, solver) and running embedded never loads gRPC.
 */
import type { Client } from '../../src/client/types.js';
import type { CommandContext } from '../cli/command.js';

export interface ClientOptions {
  /** Commands that only read metadata skip the root/overlay/runc preflight. */
  readonly readOnly?: boolean;
  /** Recover what dead processes left before running the command. Default true. */
  readonly recover?: boolean;
  readonly maxParallelism?: number;
  /** The command needs no data root (parse, llb, login, logout): the engine is never opened. */
  readonly noEngine?: boolean;
}

/** The client for the command: the daemon's when one is given, else an embedded engine. */
export async function openClient(ctx: CommandContext, opts: ClientOptions): Promise<Client> {
  if (ctx.daemon) {
    const { GrpcClient } = await import('../../src/client/grpc-client.js');
    return GrpcClient.connect(ctx.daemon);
  }
  const { EmbeddedClient } = await import('../../src/client/embedded.js');
  const engine = {
    root: ctx.root,
    signal: ctx.signal,
    ...(opts.readOnly ? { skipPreflight: true } : {}),
    ...(opts.recover === false ? { recover: false } : {}),
    ...(opts.maxParallelism !== undefined ? { maxParallelism: opts.maxParallelism } : {}),
  };
  // Opened before the command runs, so preflight errors come before any progress output.
  return opts.noEngine ? new EmbeddedClient(engine) : EmbeddedClient.open(engine);
}

export async function withClient<T>(ctx: CommandContext, opts: ClientOptions, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = await openClient(ctx, opts);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
