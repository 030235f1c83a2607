/**
 * Status and ListBuilds: attach to a running build by ref, list the running builds. Status replays
 * the build's progress from the beginning, streams the live events, and ends with the build's
 * `result`, or its `error` followed by the same status Solve ended with (thrown for calls.ts to map).
 * A Status client that cancels just detaches; it does not stop the build (running-builds.ts and the
 * Solve handler decide what its leaving means for a build whose own client is gone).
 */
import type { tsbuild } from '../client/gen/control.js';
import { CancelledError } from '../util/errors.js';
import { DaemonErrors, errorDetailOf } from './errors.js';
import type { BuildEnd, RunningBuilds } from './running-builds.js';
import type { ServerStreamHandler, UnaryHandler } from './types.js';

type StatusRequest = tsbuild.control.v1.StatusRequest;
type StatusResponse = tsbuild.control.v1.StatusResponse.$Properties;
type ListBuildsRequest = tsbuild.control.v1.ListBuildsRequest;
type ListBuildsResponse = tsbuild.control.v1.ListBuildsResponse.$Properties;

export function statusHandler(builds: RunningBuilds): ServerStreamHandler<StatusRequest, StatusResponse> {
  return async (req, send, ctx) => {
    const build = builds.get(req.ref ?? '');
    if (!build) throw DaemonErrors.buildNotFound(req.ref ?? '');
    // One chain keeps the order; the replay and the live events may outrun the transport.
    let chain = Promise.resolve();
    let failed: unknown;
    const post = (m: StatusResponse): void => {
      chain = chain.then(() => (failed === undefined ? send(m) : undefined)).catch((e: unknown) => {
        failed ??= e;
      });
    };
    let detach: () => void = () => undefined;
    const end = await new Promise<BuildEnd | undefined>((resolve) => {
      const onAbort = (): void => resolve(undefined);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      detach = build.watch({
        keepsAlive: ctx.principal.role === 'admin',
        progress: (progress) => post({ progress }),
        end: (e) => {
          ctx.signal.removeEventListener('abort', onAbort);
          resolve(e);
        },
      });
      if (ctx.signal.aborted) onAbort();
    });
    detach();
    if (!end) throw ctx.signal.reason instanceof CancelledError ? ctx.signal.reason : new CancelledError(ctx.signal.reason);
    if ('result' in end) post({ result: end.result });
    else post({ error: errorDetailOf(end.error) });
    await chain;
    if (failed !== undefined) throw failed;
    if ('error' in end) throw end.error;
  };
}

export function listBuildsHandler(builds: RunningBuilds): UnaryHandler<ListBuildsRequest, ListBuildsResponse> {
  return () => Promise.resolve({ builds: builds.list().map((b) => b.toWire()) });
}
