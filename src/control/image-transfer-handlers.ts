/**
 * The Control RPCs that move images in and out of the daemon's store and check it: Pull and Push
 * (transfer progress streamed, then a summary), Load and Import (the client streams an archive that
 * the engine reads as its `-` input), Save (the engine's archive streamed back as it is written),
 * Check and Repair. Registry credentials come with the request,
 * for the one host the call reaches (see docs/grpc.md, "Registry credentials"): the engine asks the
 * lookup made from them first and its own docker config after. A CA the client sent is written to a
 * scratch file for the call's registry client and removed after.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControlService } from '../client/gen/control-grpc.js';
import { checkResultToWire, repairReportToWire } from '../client/grpc-map-check.js';
import {
  loadedImageToWire, lookupOf, pullRequestFromWire, pullSummaryToWire, pushRequestFromWire, pushSummaryToWire, transferEventToWire,
} from '../client/grpc-map-registry.js';
import type { Engine } from '../engine/index.js';
import { DaemonErrors } from './errors.js';
import { imageRecordOut } from './map-responses.js';
import type { HandlerFor } from './types.js';

type Handler<K extends keyof typeof ControlService> = HandlerFor<(typeof ControlService)[K]>;

export interface TransferDeps {
  readonly engine: Engine;
  /** Scratch for CA files lives under `<root>/solve`. */
  readonly dataRoot: string;
}

/** Runs `body` with the path of a file holding `pem` (none when empty); the file is gone after. */
async function withCaFile<T>(dataRoot: string, pem: Uint8Array | null | undefined, body: (caFile: string | undefined) => Promise<T>): Promise<T> {
  if (!pem || pem.length === 0) return body(undefined);
  await mkdir(join(dataRoot, 'solve'), { recursive: true });
  const dir = await mkdtemp(join(dataRoot, 'solve', 'ca-'));
  try {
    const file = join(dir, 'ca.pem');
    await writeFile(file, pem, { mode: 0o600 });
    return await body(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The bytes of a client-streamed archive: the first message must be `start` (returned), the rest
 * `data` chunks, until the client half-closes or sends `eof`.
 */
async function archiveStream<S>(
  requests: AsyncIterable<{ start?: S | null; data?: { data?: Uint8Array | null; eof?: boolean | null } | null }>, rpc: string,
): Promise<{ start: S; bytes: AsyncIterable<Uint8Array> }> {
  const it = requests[Symbol.asyncIterator]();
  const first = await it.next();
  const start = first.done ? undefined : first.value.start;
  if (!start) throw DaemonErrors.protocol(`${rpc}: the first message must be start`);
  async function* bytes(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      const d = r.value.data;
      if (!d) throw DaemonErrors.protocol(`${rpc}: expected data chunks after start`);
      if (d.data?.length) yield d.data;
      if (d.eof) return;
    }
  }
  return { start, bytes: bytes() };
}

/**
 * Progress messages sent in order from a synchronous listener; `flush` waits for the last one and
 * throws the first send failure (a send that fails is never left as an unhandled rejection).
 */
function inOrder<M>(send: (m: M) => Promise<void>): { post(m: M): void; flush(): Promise<void> } {
  let chain = Promise.resolve();
  let failed: { error: unknown } | undefined;
  return {
    post(m) {
      chain = chain.then(() => (failed ? undefined : send(m))).catch((error: unknown) => {
        failed ??= { error };
      });
    },
    async flush() {
      await chain;
      if (failed) throw failed.error;
    },
  };
}

export function pullHandler(deps: TransferDeps): Handler<'Pull'> {
  return (req, send, { signal }) => withCaFile(deps.dataRoot, req.registry?.caPem, async (caFile) => {
    const progress = inOrder(send);
    const summary = await deps.engine.pull(pullRequestFromWire(req, caFile), {
      signal,
      credentials: lookupOf(req.credentials),
      onProgress: (e) => progress.post({ progress: transferEventToWire(e) }),
    });
    await progress.flush();
    await send({ summary: pullSummaryToWire(summary) });
  });
}

export function pushHandler(deps: TransferDeps): Handler<'Push'> {
  return (req, send, { signal }) => withCaFile(deps.dataRoot, req.registry?.caPem, async (caFile) => {
    const progress = inOrder(send);
    const summary = await deps.engine.push(pushRequestFromWire(req, caFile), {
      signal,
      credentials: lookupOf(req.credentials),
      onProgress: (e) => progress.post({ progress: transferEventToWire(e) }),
    });
    await progress.flush();
    await send({ summary: pushSummaryToWire(summary) });
  });
}

export function loadHandler(deps: TransferDeps): Handler<'Load'> {
  return async (requests, { signal }) => {
    const { start, bytes } = await archiveStream(requests, 'Load');
    const images = await deps.engine.loadImages({ source: '-' }, { signal, input: bytes, ...(start.sourceName ? { inputLabel: start.sourceName } : {}) });
    return { images: images.map(loadedImageToWire) };
  };
}

export function importHandler(deps: TransferDeps): Handler<'Import'> {
  return async (requests, { signal }) => {
    const { start, bytes } = await archiveStream(requests, 'Import');
    // Empty: the engine's default comment (tsbuild's client always sends the one it wants).
    const message = start.message || `Imported from ${start.sourceName || '-'}`;
    const rec = await deps.engine.importImage({ source: '-', name: start.name ?? '', message, ...(start.platform ? { platform: start.platform } : {}) }, { signal, input: bytes });
    return { image: imageRecordOut(rec) };
  };
}

const SAVE_CHUNK = 1024 * 1024;

/** Save: the archive's bytes go out as the engine writes them (each write waits for its send: flow control). */
export function saveHandler(deps: TransferDeps): Handler<'Save'> {
  return async (req, send, { signal }) => {
    const saved = await deps.engine.saveImages({ names: [...(req.names ?? [])] }, {
      signal,
      output: {
        write: async (chunk) => {
          for (let at = 0; at < chunk.length; at += SAVE_CHUNK) await send({ data: { data: chunk.subarray(at, Math.min(chunk.length, at + SAVE_CHUNK)) } });
        },
      },
    });
    await send({ data: { data: new Uint8Array(), eof: true } });
    await send({ summary: { images: saved.map((i) => ({ name: i.name ?? '', manifestDigest: i.manifestDigest, configDigest: i.configDigest })) } });
  };
}

export function checkHandler(deps: TransferDeps): Handler<'Check'> {
  return async (req, { signal }) => checkResultToWire(await deps.engine.check({ deep: req.deep ?? false }, { signal }));
}

export function repairHandler(deps: TransferDeps): Handler<'Repair'> {
  return async (req, { signal }) => repairReportToWire(await deps.engine.repair({ deep: req.deep ?? false }, { signal }));
}
