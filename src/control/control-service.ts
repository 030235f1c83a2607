/**
 * The handlers of tsbuild.control.v1.Control. Info, the image RPCs (ListImages, RemoveImage,
 * TagImage, Inspect) and the cache RPCs (DiskUsage, Prune) call the daemon's one Engine
 * (`deps.engine`, opened at start, closed after the last call) with the contract's requests
 * (map-requests.ts) and answer with map-responses.ts; auth, cancellation and the error → status
 * mapping are applied around each by calls.ts, so a client sees the engine's own typed errors.
 * Solve registers each build in `deps.builds`, which ListBuilds lists and Status attaches to
 * (status-handler.ts). Pull, Push, Load, Import, Save, Check and Repair live in image-transfer-handlers.ts.
 */
import { solveHandler } from './solve-handler.js';
import type { ControlService } from '../client/gen/control-grpc.js';
import type { tsbuild } from '../client/gen/control.js';
import type { Engine } from '../engine/index.js';
import type { BuildSlots } from './build-slots.js';
import type { RunningBuilds } from './running-builds.js';
import { listBuildsHandler, statusHandler } from './status-handler.js';
import { checkHandler, importHandler, loadHandler, pullHandler, pushHandler, repairHandler, saveHandler } from './image-transfer-handlers.js';
import { buildHistoryIn, pastBuildOut } from './map-build-history.js';
import { diskUsageIn, imageRefIn, pruneIn, removeImageIn, tagImageIn } from './map-requests.js';
import {
  diskUsageOut, historyRowOut, imageInspectOut, imageRecordOut, imageSummaryOut, prunedRecordOut, pruneSummaryOut, removedImageOut,
} from './map-responses.js';
import type { ServiceHandlers } from './types.js';

type InfoResponse = tsbuild.control.v1.InfoResponse.$Properties;

export interface ControlDeps {
  /** The Info answer, computed per call (uptime and, when binfmt_misc changes, the platforms change). */
  readonly info: (signal: AbortSignal) => InfoResponse | Promise<InfoResponse>;
  /** Per-client build limit (`--max-builds-per-client`). */
  readonly buildSlots: BuildSlots;
  /** The daemon's engine on `--root`: every handler (and the build handler) uses this one. */
  readonly engine: Engine;
  /** The data root: Solve keeps synced contexts and per-build scratch under `<root>/solve`. */
  readonly dataRoot: string;
  /** `--max-context-size` in bytes; 0: unlimited. */
  readonly maxContextBytes: number;
  /** `--allow-insecure-entitlement` values. */
  readonly allowedEntitlements: readonly string[];
  /** The builds running now (Solve adds them; ListBuilds and Status read them). */
  readonly builds: RunningBuilds;
}

/** Control RPCs with a real handler (reported by Info.features.rpcs). */
export const IMPLEMENTED_RPCS: readonly (keyof typeof ControlService)[] = [
  'Solve', 'Status', 'ListBuilds', 'DiskUsage', 'Prune', 'ListImages', 'RemoveImage', 'TagImage', 'Inspect', 'History', 'Info', 'Pull', 'Push', 'Load', 'Import', 'Check', 'Repair', 'Save',
];

export function controlHandlers(deps: ControlDeps): ServiceHandlers<typeof ControlService> {
  return {
    // The handler takes the client's build slot itself, for as long as the build runs.
    Solve: solveHandler({ engine: deps.engine, dataRoot: deps.dataRoot, buildSlots: deps.buildSlots, maxContextBytes: deps.maxContextBytes, builds: deps.builds, allowedEntitlements: deps.allowedEntitlements }),
    Status: statusHandler(deps.builds),
    ListBuilds: listBuildsHandler(deps.builds),
    DiskUsage: async (req, { signal }) => diskUsageOut(await deps.engine.diskUsage(diskUsageIn(req), { signal })),
    Prune: async (req, send, { signal }) => {
      const result = await deps.engine.prune(pruneIn(req), { signal });
      for (const r of result.records) await send({ record: prunedRecordOut(r) });
      await send({ summary: pruneSummaryOut(result) });
    },
    ListImages: async (_req, { signal }) => ({ images: (await deps.engine.listImages({ signal })).map(imageSummaryOut) }),
    RemoveImage: async (req, { signal }) => removedImageOut(await deps.engine.removeImage(removeImageIn(req), { signal })),
    TagImage: async (req, { signal }) => ({ image: imageRecordOut(await deps.engine.tagImage(tagImageIn(req), { signal })) }),
    Inspect: async (req, { signal }) => {
      const ref = imageRefIn(req);
      const image = await deps.engine.inspect(ref, { signal });
      const history = await deps.engine.history(ref, { signal });
      return { image: imageInspectOut(image), history: history.map(historyRowOut) };
    },
    History: async (req, { signal }) => ({ builds: (await deps.engine.buildHistory(buildHistoryIn(req), { signal })).map(pastBuildOut) }),
    Info: async (_req, { signal }) => deps.info(signal),
    Pull: pullHandler(deps),
    Push: pushHandler(deps),
    Load: loadHandler(deps),
    Import: importHandler(deps),
    Check: checkHandler(deps),
    Repair: repairHandler(deps),
    Save: saveHandler(deps),
  };
}
