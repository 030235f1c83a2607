/**
 * The handlers of tsbuild.control.v1.Control. Info is served here; the build and image RPCs answer
 * UNIMPLEMENTED until they are wired to the engine through the client seam (each becomes one
 * handler here; auth, limits, cancellation and error mapping are already applied around it by
 * calls.ts).
 */
import type { ControlService } from '../client/gen/control-grpc.js';
import type { tsbuild } from '../client/gen/control.js';
import type { BuildSlots } from './build-slots.js';
import { DaemonErrors } from './errors.js';
import type { ServiceHandlers } from './types.js';

type InfoResponse = tsbuild.control.v1.InfoResponse.$Properties;

export interface ControlDeps {
  /** The Info answer, computed per call (uptime changes). */
  readonly info: () => InfoResponse;
  /** Per-client build limit (`--max-builds-per-client`). */
  readonly buildSlots: BuildSlots;
}

/** Control RPCs with a real handler (reported by Info.features.rpcs). */
export const IMPLEMENTED_RPCS: readonly (keyof typeof ControlService)[] = ['Info'];

function notImplemented(method: keyof typeof ControlService): () => Promise<never> {
  return () => Promise.reject(DaemonErrors.notImplemented(method));
}

export function controlHandlers(deps: ControlDeps): ServiceHandlers<typeof ControlService> {
  return {
    Solve: async (_requests, _send, ctx) => {
      // A build holds one of its client's slots for as long as it runs.
      const release = deps.buildSlots.acquire(ctx.principal.name);
      try {
        throw DaemonErrors.notImplemented('Solve');
      } finally {
        release();
      }
    },
    Status: notImplemented('Status'),
    ListBuilds: notImplemented('ListBuilds'),
    DiskUsage: notImplemented('DiskUsage'),
    Prune: notImplemented('Prune'),
    ListImages: notImplemented('ListImages'),
    RemoveImage: notImplemented('RemoveImage'),
    TagImage: notImplemented('TagImage'),
    Inspect: notImplemented('Inspect'),
    History: notImplemented('History'),
    Info: async () => deps.info(),
  };
}
