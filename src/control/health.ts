/**
 * grpc.health.v1 (proto/grpc/health/v1/health.proto): "" (the daemon) and
 * "tsbuild.control.v1.Control" are SERVING while the daemon accepts work and NOT_SERVING once it
 * drains. Watch streams end when the daemon starts draining (after telling NOT_SERVING), so they
 * never hold a graceful shutdown up.
 */
import { TsbuildError } from '../util/errors.js';
import { grpc } from '../client/gen/health.js';
import type { HealthService as HealthServiceDef } from '../client/gen/health-grpc.js';
import type { CallContext, ServiceHandlers } from './types.js';

const ServingStatus = grpc.health.v1.HealthCheckResponse.ServingStatus;
type ServingStatus = grpc.health.v1.HealthCheckResponse.ServingStatus;

export const CONTROL_SERVICE_NAME = 'tsbuild.control.v1.Control';

type Watcher = (status: ServingStatus) => void;

export class HealthState {
  private readonly statuses = new Map<string, ServingStatus>([
    ['', ServingStatus.SERVING],
    [CONTROL_SERVICE_NAME, ServingStatus.SERVING],
  ]);
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly closers = new Set<() => void>();

  status(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Marks every service NOT_SERVING, tells the watchers, and ends their streams. */
  drain(): void {
    for (const name of this.statuses.keys()) this.set(name, ServingStatus.NOT_SERVING);
    for (const close of [...this.closers]) close();
  }

  private set(service: string, status: ServingStatus): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const w of this.watchers.get(service) ?? []) w(status);
  }

  /** Streams `service`'s status now and on every change until the call or the daemon ends. */
  async watch(service: string, send: (status: ServingStatus) => Promise<void>, signal: AbortSignal): Promise<void> {
    let pending: Promise<void> = send(this.status(service) ?? ServingStatus.SERVICE_UNKNOWN);
    const watcher: Watcher = (s) => {
      pending = pending.then(() => send(s));
    };
    let close!: () => void;
    const closed = new Promise<void>((resolve) => (close = resolve));
    const set = this.watchers.get(service) ?? new Set<Watcher>();
    this.watchers.set(service, set);
    set.add(watcher);
    this.closers.add(close);
    const onAbort = (): void => close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await closed;
      await pending.catch(() => undefined);
    } finally {
      set.delete(watcher);
      this.closers.delete(close);
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** Handlers for grpc.health.v1.Health over a HealthState. */
export function healthHandlers(state: HealthState): ServiceHandlers<typeof HealthServiceDef> {
  return {
    Check: async (req) => {
      const status = state.status(req.service);
      if (status === undefined) throw new TsbuildError('HEALTH_SERVICE_UNKNOWN', `unknown service ${JSON.stringify(req.service)}`);
      return { status };
    },
    Watch: (req, send, ctx: CallContext) => state.watch(req.service, (status) => send({ status }), ctx.signal),
  };
}
