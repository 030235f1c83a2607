/**
 * The tsbuildd server: binds every address (unix sockets 0660 with their group; tcp only with TLS
 * unless --insecure-tcp), serves Control, grpc.health.v1 and reflection through the one call
 * adapter, and stops in two steps. `shutdown()` (SIGTERM): stop accepting, report NOT_SERVING,
 * let running calls finish for up to the shutdown timeout, then cancel them and wait for their
 * cleanup; `cancelNow()` (a second SIGTERM) skips the wait. Unix socket files are removed on the
 * way out. The daemon opens ONE Engine on `--root` at start (preflight and crash recovery happen
 * then: a machine that cannot build fails the start, exit 1) and closes it last, after running
 * calls ended.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ControlService } from '../client/gen/control-grpc.js';
import { Engine } from '../engine/index.js';
import { defaultGcBudget, gcPolicyFor } from '../cache/gc-policy.js';
import { HealthService } from '../client/gen/health-grpc.js';
import { CancelledError, TsbuildError, UsageError } from '../util/errors.js';
import { formatListenAddress, grpcBindTarget } from './addresses.js';
import { Authorizer } from './auth.js';
import { BuildSlots } from './build-slots.js';
import { RunningBuilds } from './running-builds.js';
import { adaptService, type CallDeps } from './calls.js';
import { controlHandlers, IMPLEMENTED_RPCS, type ControlDeps } from './control-service.js';
import { HealthState, healthHandlers } from './health.js';
import { InFlightCalls } from './in-flight.js';
import { ensureDataRoot, infoResponse, runcVersion } from './info.js';
import { addReflection } from './reflection.js';
import { serverCredentials } from './tls.js';
import { TokenTable } from './tokens.js';
import type { DaemonOptions, ListenAddress, ServiceHandlers } from './types.js';
import { prepareSocketPath, removeSocket, resolveSocketGroup, secureSocket } from './unix-socket.js';

/** How long cancelled calls get to clean up (unmount, release) before the server closes anyway. */
const CANCEL_GRACE_MS = 30_000;
const KEEPALIVE_MS = 60_000;
const KEEPALIVE_TIMEOUT_MS = 20_000;
/** How long finished calls' last bytes get to reach their clients before connections are cut. */
const CLOSE_GRACE_MS = 2_000;

export interface DaemonLog {
  (line: string): void;
}

export interface DaemonHooks {
  /** One line per event (listening, warnings, stopping), without a trailing newline. */
  readonly log: DaemonLog;
  /** The Control handlers; default controlHandlers (tests inject slow ones to exercise shutdown). */
  readonly control?: (deps: ControlDeps) => ServiceHandlers<typeof ControlService>;
}

function bind(server: Server, target: string, creds: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(target, creds, (err, port) => (err ? reject(err) : resolve(port))));
}

/** Resolves after `ms`, or earlier when `early` settles; true when `work` finished first. */
async function within(work: Promise<void>, ms: number, early?: Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const done = work.then(() => true);
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([done, timeout, ...(early ? [early.then(() => false)] : [])]);
  } finally {
    clearTimeout(timer);
  }
}

export class Daemon {
  private stopping: Promise<void> | undefined;
  private hurry!: () => void;
  private readonly hurried = new Promise<void>((resolve) => (this.hurry = resolve));

  private constructor(
    private readonly server: Server,
    private readonly opts: DaemonOptions,
    private readonly deps: CallDeps & { readonly health: HealthState },
    private readonly sockets: readonly string[],
    /** Bound addresses (tcp port 0 resolved), as `unix://…` / `tcp://…`. */
    readonly addresses: readonly string[],
    private readonly log: DaemonLog,
    private readonly engine: Engine,
  ) {}

  static async start(opts: DaemonOptions, hooks: DaemonHooks): Promise<Daemon> {
    const log = hooks.log;
    const startedMs = Date.now();
    const tcp = opts.addresses.filter((a): a is Extract<ListenAddress, { kind: 'tcp' }> => a.kind === 'tcp');
    if (tcp.length > 0 && !opts.tls && !opts.insecureTcp) {
      throw new UsageError(`refusing to listen on ${formatListenAddress(tcp[0] as ListenAddress)} without TLS: give --tls-cert and --tls-key (and --tls-ca to require client certificates), or --insecure-tcp`);
    }
    if (opts.addresses.length === 0) throw new UsageError('no --addr to listen on');
    const dataRoot = await ensureDataRoot(opts.root);
    const warnings: string[] = [];
    const tokens = opts.tokenFile !== undefined ? await TokenTable.load(opts.tokenFile, warnings) : undefined;
    for (const w of warnings) log(`warning: ${w}`);
    const tlsCreds = opts.tls ? await serverCredentials(opts.tls) : undefined;
    if (tcp.length > 0 && !tlsCreds) log('warning: --insecure-tcp: tcp clients are neither encrypted nor authenticated by TLS');
    else if (tcp.length > 0 && !opts.tls?.caFile && !tokens) log('warning: tcp without --tls-ca or --token-file: anyone who can reach the port can build');
    const gid = opts.addresses.some((a) => a.kind === 'unix') ? await resolveSocketGroup(opts.socketGroup) : 0;
    // A build's client gets its result before the garbage collection after it (a walk of the whole store).
    // --gc-keep-storage: the GC policy every build's collection applies (0: none; by default
    // BuildKit's budget, 10% of the data root's filesystem). Info reports the budget in force.
    const gcKeepStorage = opts.gcKeepStorage ?? (await defaultGcBudget(dataRoot));
    const gcPolicy = gcKeepStorage > 0 ? gcPolicyFor(gcKeepStorage) : [];
    const engine = await Engine.open({ root: dataRoot, maxParallelism: opts.maxParallelism, collectAfterBuild: 'background', gcPolicy });
    try {
      return await Daemon.serve({ ...opts, gcKeepStorage }, hooks, { dataRoot, tokens, tlsCreds, gid, startedMs, engine });
    } catch (e) {
      await engine.close();
      throw e;
    }
  }

  private static async serve(
    opts: DaemonOptions,
    hooks: DaemonHooks,
    s: {
      readonly dataRoot: string; readonly tokens: TokenTable | undefined; readonly tlsCreds: ServerCredentials | undefined;
      readonly gid: number; readonly startedMs: number; readonly engine: Engine;
    },
  ): Promise<Daemon> {
    const { log } = hooks;
    const { dataRoot, tokens, tlsCreds, gid, startedMs, engine } = s;

    const server = new Server({
      'grpc.max_receive_message_length': opts.limits.maxMessageBytes,
      'grpc.max_send_message_length': opts.limits.maxMessageBytes,
      // Pings find clients that vanished (a CI runner killed mid-build) so their builds are
      // cancelled instead of running for nobody.
      'grpc.keepalive_time_ms': KEEPALIVE_MS,
      'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    });
    const authorizer = new Authorizer(tokens);
    const deps = { authorizer, inFlight: new InFlightCalls(), health: new HealthState() };
    const bound: string[] = [];
    const sockets: string[] = [];
    const runc = await runcVersion();
    const engineInfo = await engine.info({ signal: AbortSignal.timeout(30_000) });
    const auth = [...(tokens ? ['token'] : []), ...(opts.tls?.caFile ? ['tls-client-cert'] : [])];
    const makeControl = hooks.control ?? controlHandlers;
    server.addService(ControlService, adaptService(ControlService, makeControl({
      info: async (signal) => infoResponse({
        options: opts, dataRoot, addresses: bound, rpcs: IMPLEMENTED_RPCS, auth, startedMs, runcVersion: runc,
        // The emulators are re-read per call (cheap unless binfmt_misc changed): a handler
        // registered after the daemon started shows up without a restart.
        engine: { ...engineInfo, platforms: await engine.emulators.runnable(signal) },
      }),
      buildSlots: new BuildSlots(opts.limits.maxBuildsPerClient),
      engine,
      dataRoot,
      maxContextBytes: opts.limits.maxContextBytes,
      allowedEntitlements: opts.allowedEntitlements,
      builds: new RunningBuilds(),
    }), deps));
    server.addService(HealthService, adaptService(HealthService, healthHandlers(deps.health), deps));
    await addReflection(server, deps);

    try {
      for (const a of opts.addresses) {
        if (a.kind === 'unix') {
          await prepareSocketPath(a.path);
          await bind(server, grpcBindTarget(a), ServerCredentials.createInsecure());
          sockets.push(a.path);
          await secureSocket(a.path, gid);
          bound.push(formatListenAddress(a));
        } else {
          const port = await bind(server, grpcBindTarget(a), tlsCreds ?? ServerCredentials.createInsecure()).catch((e: Error) => {
            throw new TsbuildError('ADDRESS_UNAVAILABLE', `cannot listen on ${formatListenAddress(a)}: ${e.message}`);
          });
          bound.push(formatListenAddress({ ...a, port }));
        }
      }
    } catch (e) {
      server.forceShutdown();
      for (const s of sockets) await removeSocket(s);
      throw e;
    }
    for (const b of bound) log(`listening on ${b}`);
    return new Daemon(server, opts, deps, sockets, bound, log, engine);
  }

  /** Swaps in a re-read token file (SIGHUP); keeps the old table when the file is bad. */
  async reloadTokens(): Promise<void> {
    if (this.opts.tokenFile === undefined) return;
    const warnings: string[] = [];
    const table = await TokenTable.load(this.opts.tokenFile, warnings);
    for (const w of warnings) this.log(`warning: ${w}`);
    this.deps.authorizer.setTokens(table);
    this.log(`reloaded ${table.size} token(s) from ${this.opts.tokenFile}`);
  }

  /**
   * Graceful stop: no new calls, NOT_SERVING, running calls get up to `shutdownTimeoutMs` (or until
   * cancelNow), then are cancelled and given time to clean up; then every connection is closed and
   * the socket files removed. Idempotent.
   */
  shutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  /** Cancels running calls now instead of waiting for them (a second SIGTERM). */
  cancelNow(): void {
    this.hurry();
  }

  private async stop(): Promise<void> {
    const { inFlight, health } = this.deps;
    inFlight.drain();
    health.drain();
    const closed = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    if (inFlight.size > 0) {
      this.log(`shutting down: waiting up to ${Math.round(this.opts.shutdownTimeoutMs / 1000)}s for ${inFlight.size} running call(s); send SIGTERM again to cancel them now`);
      if (!(await within(inFlight.idle(), this.opts.shutdownTimeoutMs, this.hurried))) {
        this.log(`cancelling ${inFlight.size} running call(s)`);
        inFlight.cancelAll(new CancelledError(new Error('tsbuildd is shutting down')));
        if (!(await within(inFlight.idle(), CANCEL_GRACE_MS))) this.log(`${inFlight.size} call(s) did not finish cleaning up`);
      }
    }
    await within(closed, CLOSE_GRACE_MS);
    this.server.forceShutdown();
    for (const s of this.sockets) await removeSocket(s);
    await this.engine.close();
    this.log('stopped');
  }
}
