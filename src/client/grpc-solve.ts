/**
 * The client side of the Solve RPC: one build over a bidirectional stream to tsbuildd. Sends
 * `start` (the request without its client paths), answers the daemon's context listing and fetch
 * requests from the context directory (only files whose digest the daemon lacks travel), its
 * secret requests from the call's lookup and its `auth` requests from the client's registry
 * credentials (grpc-credentials.ts: only the host asked for), relays ssh agent connections
 * (solve-ssh-relay.ts), serves and receives `type=local` caches (solve-local-cache.ts), hands progress to `onProgress`, writes outputs streamed
 * back at their client-side destinations, and returns the result — or throws the same typed error
 * the embedded engine would have. Aborting the signal sends `cancel` and waits for the daemon's
 * answer (the build stopped and cleaned up, or — when other clients are attached to it — handed
 * over to them); a daemon that does not answer is cut off.
 */
import { createReadStream, readFileSync, realpathSync } from 'node:fs';
import { CancelledError } from '../util/errors.js';
import { ControlService } from './gen/control-grpc.js';
import type { H2Call } from './h2/call.js';
import type { H2Channel } from './h2/channel.js';
import type { tsbuild } from './gen/control.js';
import { errorFromDetail, errorFromStatus } from './grpc-errors.js';
import { unaskedFileIds } from './context-contents-follow.js';
import { ContextDigestCache, defaultDigestCacheDir } from './context-digest-cache.js';
import { caPemOf, clientCredentials } from './grpc-credentials.js';
import { authResponseOf } from './grpc-map-registry.js';
import { ListingDigest } from './context-listing-digest.js';
import { contextRootId } from './context-root-id.js';
import { listChangedPaths } from './solve-context-delta.js';
import { contextKeyOf, listContext, readDockerignore } from './solve-context-listing.js';
import { OutputWriter } from './solve-output-writer.js';
import { buildStartOf, resultFromWire } from './solve-wire-build.js';
import { progressFromWire } from './solve-wire-progress.js';
import { missingAgentSockets, SshRelay } from './solve-ssh-relay.js';
import { CacheExportReceiver, serveCacheFiles } from './solve-local-cache.js';
import { serveNamedContext } from './solve-named-context.js';
import type { BuildCallOptions, BuildRequest, BuildResult, RegistryCredentials } from './types.js';

type SolveRequest = tsbuild.control.v1.SolveRequest.$Properties;
type SolveResponse = tsbuild.control.v1.SolveResponse;
type FileStat = tsbuild.control.v1.FileStat.$Properties;
type FileChunk = tsbuild.control.v1.FileChunk.$Properties;
type Call = H2Call<SolveRequest, SolveResponse>;

const LISTING_BATCH = 512;
const FILE_CHUNK = 1024 * 1024;
/** Files up to this size travel whole, packed into `file_chunks` messages of up to BATCH_BYTES / BATCH_FILES. */
const SMALL_FILE = 256 * 1024;
const BATCH_BYTES = 1024 * 1024;
const BATCH_FILES = 1024;
/** How long a cancelled build may take to stop before the call is cut. */
const CANCEL_GRACE_MS = 30_000;

/**
 * Writes one message, resolving when the call has room for more (flow control). A call that ended
 * meanwhile has none to give and never drains: the daemon failed the build (a Dockerfile error)
 * while this side was still sending its listing. Writes to it are dropped, and the answer loop
 * reports why the call ended.
 */
function writer(call: Call): (m: SolveRequest) => Promise<void> {
  return (m) => new Promise<void>((resolve) => {
    if (call.write(m) || call.destroyed) {
      resolve();
      return;
    }
    const done = (): void => {
      call.off('drain', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
  });
}

/** A listed file the daemon may fetch: where it is and how large the listing said it was. */
interface Fetchable {
  readonly absPath: string;
  readonly size: number;
}

/**
 * Walks the context and answers the daemon's listing request: every entry, in batches — or, when
 * the listing's digest is the one the daemon says its copy already has, one `unchanged` message;
 * or, when the daemon's journal names the few paths that may have changed, their entries alone.
 * When the daemon says its copy is empty (`send_contents`), the small files follow the listing at
 * once, unasked (context-contents-follow.ts); so do a delta's when it takes them (`delta_contents`).
 */
async function sendListing(write: (m: SolveRequest) => Promise<void>, requestId: number, list: tsbuild.control.v1.IListFiles, req: BuildRequest, ignore: Buffer | undefined, files: Map<number, Fetchable>, contextKey: string, signal: AbortSignal): Promise<void> {
  const known = list.knownListingDigest ?? '';
  if (known !== '' && list.journalClean === true) {
    // The daemon has watched this directory since the listing `known` was taken and saw no change
    // (daemons that ask at all then: newer ones go on without asking).
    await write({ contextEntries: { requestId, entries: [], done: true, listingDigest: known, unchanged: true } });
    return;
  }
  if (known !== '' && list.journalDelta === true) {
    // The daemon's journal names the only paths that may have changed since `known`: lstat those
    // alone. Without the digest cache: loading it costs more than hashing the few files that changed.
    const delta = await listChangedPaths(req.contextDir, ignore, list.journalPaths ?? [], signal);
    if (delta !== undefined) {
      for (const e of delta.changed) files.set(e.stat.fileId ?? 0, { absPath: e.absPath, size: Number(e.stat.size ?? 0) });
      // The small files of the delta go at once, unasked, when the daemon takes them: an edit's
      // files are what its fetch would ask for, one round trip later.
      const follow = list.deltaContents === true;
      const entries = delta.changed.map((e) => e.stat);
      await write({ contextEntries: { requestId, entries, removed: [...delta.removed], delta: true, done: true, ...(follow ? { contentsFollow: true } : {}) } });
      if (follow) await sendFiles(write, requestId, unaskedFileIds(entries), files, signal);
      return;
    }
  }
  const digests = await ContextDigestCache.open(defaultDigestCacheDir(process.env), contextKey);
  const entries: FileStat[] = [];
  const digest = new ListingDigest();
  for await (const e of listContext(req.contextDir, ignore, signal, digests)) {
    files.set(e.stat.fileId ?? 0, { absPath: e.absPath, size: Number(e.stat.size ?? 0) });
    entries.push(e.stat);
  }
  digest.add(entries);
  const listing = digest.digest();
  if (known !== '' && listing === known) {
    await write({ contextEntries: { requestId, entries: [], done: true, listingDigest: listing, unchanged: true } });
  } else {
    // The daemon's copy is empty: it will fetch every file, so the small ones go now, unasked,
    // instead of after its fetch request comes back (one round trip less on a cold build).
    const follow = list.sendContents === true;
    for (let i = 0; i < entries.length || i === 0; i += LISTING_BATCH) {
      const last = i + LISTING_BATCH >= entries.length;
      await write({ contextEntries: { requestId, entries: entries.slice(i, i + LISTING_BATCH), done: last, ...(last ? { listingDigest: listing } : {}), ...(last && follow ? { contentsFollow: true } : {}) } });
    }
    if (follow) await sendFiles(write, requestId, unaskedFileIds(entries), files, signal);
  }
  await digests.save();
}

/**
 * Sends the files the daemon asked for, in order: each small file whole (one chunk with eof) and
 * packed with others into few `file_chunks` messages; a large one streamed in FILE_CHUNK pieces.
 */
async function sendFiles(write: (m: SolveRequest) => Promise<void>, requestId: number, fileIds: readonly number[], files: ReadonlyMap<number, Fetchable>, signal: AbortSignal): Promise<void> {
  let batch: FileChunk[] = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const chunks = batch;
    batch = [];
    batchBytes = 0;
    await write({ fileChunks: { chunks } });
  };
  for (const fileId of fileIds) {
    if (signal.aborted) throw new CancelledError(signal.reason);
    const f = files.get(fileId);
    if (f === undefined) {
      batch.push({ requestId, fileId, data: new Uint8Array(), eof: true });
      continue;
    }
    if (f.size <= SMALL_FILE) {
      // A small file's bytes in one read (sync: a cached small file reads in microseconds, and
      // the thread pool round trip would cost more than the read).
      const data = readFileSync(f.absPath);
      if (data.length <= SMALL_FILE) {
        if (batchBytes + data.length > BATCH_BYTES || batch.length >= BATCH_FILES) await flush();
        batch.push({ requestId, fileId, data, eof: true });
        batchBytes += data.length;
        continue;
      }
    }
    await flush();
    for await (const chunk of createReadStream(f.absPath, { highWaterMark: FILE_CHUNK, signal })) {
      await write({ fileChunk: { requestId, fileId, data: chunk as Buffer, eof: false } });
    }
    await write({ fileChunk: { requestId, fileId, data: new Uint8Array(), eof: true } });
  }
  await flush();
}

/** Settles once the channel's connection is made (or has failed), or `signal` aborts. */
async function untilConnectedOrAborted(channel: H2Channel, signal: AbortSignal): Promise<void> {
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<void>((resolve) => (onAbort = resolve));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (!signal.aborted) await Promise.race([channel.connected(), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * What the daemon may watch for a change journal of the context (BuildStart.context_watch): only
 * over a unix socket (the daemon shares this machine; it still checks that it sees the same
 * directory), never for a context unpacked from standard input (a new directory each time), and
 * not when TSBUILD_CONTEXT_JOURNAL=0.
 */
function contextWatchOf(req: BuildRequest, sameHost: boolean): tsbuild.control.v1.IContextWatch | undefined {
  if (!sameHost || req.historyKey !== undefined || process.env['TSBUILD_CONTEXT_JOURNAL'] === '0') return undefined;
  let path: string;
  try {
    path = realpathSync.native(req.contextDir);
  } catch {
    return undefined;
  }
  const rootId = contextRootId(path);
  return rootId !== undefined ? { path, rootId } : undefined;
}

export interface SolveTransport {
  /** The daemon is on this machine (a unix socket): it may keep a change journal of the context. */
  readonly sameHost: boolean;
}

export async function solveOverGrpc(channel: H2Channel, req: BuildRequest, opts: BuildCallOptions, transport: SolveTransport = { sameHost: false }): Promise<BuildResult> {
  const { signal } = opts;
  if (signal.aborted) throw new CancelledError(signal.reason);
  // The ignore file and the context's real path synchronously (a few system calls; a thread-pool
  // round trip each would cost more, issue 10); the agents' sockets and `--registry-ca` (a client
  // file: its bytes travel), when given, at once.
  const ignore = readDockerignore(req.contextDir, req.dockerfile.path);
  const contextKey = contextKeyOf(req.contextDir, req.historyKey);
  const contextWatch = contextWatchOf(req, transport.sameHost);
  const [sshMissingSockets, caPem] = await Promise.all([missingAgentSockets(req.ssh), caPemOf(req.registry)]);
  const start = buildStartOf(req, { contextKey, secretIds: [] });
  if (contextWatch) start.contextWatch = contextWatch;
  if (opts.progressOnFailure === true) start.progressOnFailure = true;
  start.sshMissingSockets = sshMissingSockets;
  start.dockerfile = { ...start.dockerfile, dockerignore: ignore ?? new Uint8Array(), hasDockerignore: ignore !== undefined };
  if (caPem) start.registry = { ...start.registry, caPem };

  const credentials = clientCredentials(req.registry, opts.credentials);
  const m = ControlService.Solve;
  const call: Call = channel.call(m.path, m);
  // A failure before the loop below starts reading (a refused connection while `start` is being
  // written) must not be an unhandled 'error': the loop throws it from the call's errored state.
  call.on('error', () => {});
  const write = writer(call);
  const outputs = new OutputWriter(req.outputs, opts.stdout, signal);
  const files = new Map<number, Fetchable>();
  const ssh = new SshRelay(req.ssh, write);
  const cacheExports = new CacheExportReceiver(req.cacheTo ?? []);
  // The client's own work (walking, reading files) stops at once on abort; the build stops when the daemon says so.
  const local = new AbortController();
  let cutTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    local.abort(signal.reason);
    const reason = signal.reason instanceof Error ? signal.reason.message : 'the client cancelled the build';
    call.write({ cancel: { reason } });
    cutTimer = setTimeout(() => call.cancel(), CANCEL_GRACE_MS);
    cutTimer.unref();
  };
  signal.addEventListener('abort', onAbort, { once: true });

  let result: BuildResult | undefined;
  let failure: unknown;
  try {
    // The connection (started when the client was made) completes first, so `start` goes out at
    // once rather than once this client's work after the write lets the event loop run. A cancel
    // while it is still being made (a tcp daemon that does not answer) ends the call at once:
    // nothing was started on the daemon.
    await untilConnectedOrAborted(channel, signal);
    if (signal.aborted) {
      call.cancel();
      throw new CancelledError(signal.reason);
    }
    await write({ start });
    try {
      // Not destroyed when the answers end: our half is still open until `call.end()` below, and
      // destroying a Duplex whose writable side has not finished makes Node create an AbortError
      // and format its stack (~2-4 ms of every build's tail, issue 10). A failure still destroys
      // it (the iterator does on a stream error; the catch below cancels on ours).
      for await (const res of call.iterator({ destroyOnReturn: false }) as AsyncIterable<SolveResponse>) {
        if (res.progress) {
          const ev = progressFromWire(res.progress);
          if (ev) opts.onProgress?.(ev);
        } else if (res.files?.list) {
          await sendListing(write, res.files.id ?? 0, res.files.list, req, ignore, files, contextKey, local.signal);
        } else if (res.files?.fetch) {
          await sendFiles(write, res.files.id ?? 0, res.files.fetch.fileIds ?? [], files, local.signal);
        } else if (res.files?.cacheRead) {
          await serveCacheFiles(write, res.files.id ?? 0, res.files.cacheRead, req.cacheFrom ?? [], local.signal);
        } else if (res.files?.namedContext) {
          await serveNamedContext(write, res.files.namedContext.name ?? '', req.namedContexts, local.signal);
        } else if (res.cacheExport) {
          await cacheExports.chunk(res.cacheExport);
        } else if (res.secret) {
          const value = opts.secrets ? await opts.secrets(res.secret.secretId ?? '', local.signal) : undefined;
          await write({ secret: { requestId: res.secret.id ?? 0, data: value ?? new Uint8Array(), notFound: value === undefined } });
        } else if (res.auth) {
          // A lookup that fails (a broken helper) answers anonymous, as the engine treats its own failures.
          const creds = await credentials(res.auth.host ?? '', local.signal).catch((): RegistryCredentials => ({ kind: 'anonymous' }));
          await write({ auth: authResponseOf(res.auth.id ?? 0, creds) });
        } else if (res.ssh) {
          ssh.receive(res.ssh);
        } else if (res.output) {
          await outputs.chunk(res.output.outputIndex ?? 0, res.output.data ?? new Uint8Array(), res.output.eof ?? false);
        } else if (res.result) {
          result = resultFromWire(res.result);
        } else if (res.error) {
          failure = errorFromDetail(res.error);
          // After our `cancel` the daemon may hand the build to clients attached to it (Status) and
          // keep it running: the error is all this call will get, so stop waiting for its end.
          if (signal.aborted) call.cancel();
        }
        // `accepted` needs nothing.
      }
    } catch (e) {
      // The status after an `error` message repeats it; keep the message's. A cancel that stopped
      // our own work first (sending a --build-context directory) is the cancel, not its AbortError.
      failure ??= signal.aborted ? new CancelledError(signal.reason) : errorFromStatus(e);
      call.cancel();
    }
    if (failure !== undefined) throw failure;
    if (!result) throw signal.aborted ? new CancelledError(signal.reason) : errorFromStatus({ code: 13, details: 'the daemon ended Solve without a result' });
    call.end();
    return result;
  } finally {
    ssh.close();
    await cacheExports.close();
    signal.removeEventListener('abort', onAbort);
    if (cutTimer) clearTimeout(cutTimer);
    if (failure !== undefined || !result) await outputs.close();
  }
}
