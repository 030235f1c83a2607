/**
 * The Solve RPC: one build over one bidirectional stream (proto/control.proto, docs/grpc.md).
 * Reads `start`, answers `accepted`, receives the context (synced incrementally into the client's
 * copy, or unpacked from a tar), runs `engine.build` over it while streaming progress, asking the
 * client for secrets on demand, tunnelling ssh agent connections to it, and sending `dest`-on-the-client outputs back as chunks, and ends
 * with `result` or `error` (then the matching status, thrown for calls.ts to map).
 *
 * The build is registered by its ref (running-builds.ts) for ListBuilds and Status. A daemon
 * shutdown aborts it. A `cancel` message or a cancelled call (the client went away, Ctrl-C) aborts
 * it too — unless, once the context has arrived, a Status client is attached to it: then this call
 * ends with CANCELLED ("detached") while the build goes on for the attached clients, without the
 * starting client's secrets or client-side outputs; it is cancelled when the last of them leaves.
 * Registry credentials are asked on demand (when the client says it answers them), and
 * `dest`-on-the-client outputs are sent back as chunks.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { tsbuild } from '../client/gen/control.js';
import { tsbuild as gen } from '../client/gen/control.js';
import { buildRequestOf, resultToWire } from '../client/solve-wire-build.js';
import { progressToWire } from '../client/solve-wire-progress.js';
import type { BuildRequest, Engine } from '../engine/index.js';
import { CancelledError } from '../util/errors.js';
import { extractTar } from '../util/tar-extract.js';
import type { BuildSlots } from './build-slots.js';
import type { RunningBuild, RunningBuilds } from './running-builds.js';
import { asTsbuildError, DaemonErrors, errorDetailOf } from './errors.js';
import { SolveContextErrors, ContextSyncStore } from './solve-context-sync.js';
import type { IncomingChunk, SyncReport } from './solve-context-sync.js';
import { SolveInbox } from './solve-inbox.js';
import { ContextJournals } from './context-journal.js';
import type { ContextJournalOptions, JournalAnswer } from './context-journal.js';
import { mergeListing } from './context-listing-delta.js';
import { SshTunnels } from './solve-ssh-tunnels.js';
import { SolveLocalCaches } from './solve-local-cache.js';
import { planOutputs, stdoutSink, streamOutputs } from './solve-outputs.js';
import { reportTransfer } from './solve-transfer-progress.js';
import type { BidiStreamHandler, CallContext } from './types.js';

const pb = gen.control.v1;
type SolveRequest = tsbuild.control.v1.SolveRequest;
type SolveResponse = tsbuild.control.v1.SolveResponse.$Properties;
type BuildStart = tsbuild.control.v1.BuildStart.$Properties;

export interface SolveDeps {
  readonly engine: Engine;
  /** The daemon's data root; Solve keeps synced contexts and per-build scratch under `<root>/solve`. */
  readonly dataRoot: string;
  readonly buildSlots: BuildSlots;
  /** `--max-context-size`; 0: unlimited. */
  readonly maxContextBytes: number;
  /** `--allow-insecure-entitlement`: what builds may ask for (network.host, security.insecure). */
  readonly allowedEntitlements: readonly string[];
  /** The daemon's running builds (ListBuilds, Status). */
  readonly builds: RunningBuilds;
  /** Change journals of same-machine clients' contexts (context-journal.ts); false: none, every no-op walks. */
  readonly contextJournal?: Omit<ContextJournalOptions, 'dir'> | false;
}

/** The Solve handler (one per daemon: it owns the synced-context store). */
export function solveHandler(deps: SolveDeps): BidiStreamHandler<SolveRequest, SolveResponse> {
  const contexts = new ContextSyncStore(join(deps.dataRoot, 'solve', 'contexts'));
  const journals = deps.contextJournal === false ? undefined : new ContextJournals({ ...deps.contextJournal, dir: join(deps.dataRoot, 'solve', 'journal') });
  return (requests, send, ctx) => handleSolve(requests, send, ctx, { ...deps, contexts, ...(journals ? { journals } : {}) });
}

type HandlerDeps = SolveDeps & { readonly contexts: ContextSyncStore; readonly journals?: ContextJournals };

interface Prepared {
  readonly contextDir: string;
  readonly release: () => void;
  /** The synced copy's listing digest (BuildRequest.contextVersion), while this build holds it. */
  readonly version?: string;
  /** The copy's earlier version it differs from only at these paths (a journal delta was applied). */
  readonly changes?: { readonly from: string; readonly paths: readonly string[] };
}

async function receiveContext(start: BuildStart, inbox: SolveInbox, post: (m: SolveResponse) => void, ctx: CallContext, deps: HandlerDeps, scratch: string, ref: string): Promise<Prepared> {
  const transfer = start.contextTransfer ?? pb.ContextTransfer.CONTEXT_TRANSFER_UNSPECIFIED;
  if (transfer === pb.ContextTransfer.CONTEXT_TRANSFER_NONE) {
    const contextDir = join(scratch, 'context');
    await mkdir(contextDir);
    return { contextDir, release: () => undefined };
  }
  if (transfer === pb.ContextTransfer.CONTEXT_TRANSFER_TAR) {
    const contextDir = join(scratch, 'context');
    const started = Date.now();
    let bytes = 0;
    await extractTar((async function* () {
      for (;;) {
        const m = await inbox.next();
        if (!m?.contextTar) throw SolveContextErrors.protocol('expected context_tar chunks after start');
        bytes += m.contextTar.data?.length ?? 0;
        if (deps.maxContextBytes > 0 && bytes > deps.maxContextBytes) throw DaemonErrors.contextTooLarge(deps.maxContextBytes);
        if (m.contextTar.data?.length) yield m.contextTar.data;
        if (m.contextTar.eof) return;
      }
    })(), contextDir, ctx.signal);
    reportTransfer(post, ref, started, { bytes, files: 0, totalFiles: 0, totalBytes: bytes });
    return { contextDir, release: () => undefined };
  }
  const held = await deps.contexts.acquire(ctx.principal.name, start.contextKey || `build:${ref}`);
  try {
    const started = Date.now();
    const known = deps.contexts.knownDigest(held.dir);
    // A client on this machine (a unix socket) that named its context directory: the journal may
    // spare its walk. A tcp client's directory is not ours to watch, whatever it names.
    const watched = ctx.local === true ? start.contextWatch : undefined;
    const journal: JournalAnswer = typeof watched?.path === 'string' && watched.path !== '' && deps.journals !== undefined
      ? await deps.journals.begin(held.dir, { path: watched.path, rootId: watched.rootId ?? '', ignore: start.dockerfile?.hasDockerignore ? start.dockerfile.dockerignore ?? new Uint8Array() : undefined }, known, ctx.signal)
      : { kind: 'walk' };
    const journalClean = journal.kind === 'clean';
    const journalPaths = journal.kind === 'paths' ? journal.paths : undefined;
    post({ files: { id: 1, list: { includePatterns: [], excludePatterns: [], followPaths: [], knownListingDigest: known, journalClean, ...(journalPaths ? { journalDelta: true, journalPaths: [...journalPaths] } : {}) } } });
    let entries: tsbuild.control.v1.FileStat.$Properties[] = [];
    let unchanged: SyncReport | undefined;
    let delta: { readonly changed: readonly tsbuild.control.v1.FileStat.$Properties[]; readonly removed: readonly string[] } | undefined;
    for (;;) {
      const m = await inbox.next();
      if (!m?.contextEntries) throw SolveContextErrors.protocol('expected context_entries after files.list');
      if (m.contextEntries.unchanged) {
        unchanged = deps.contexts.unchanged(held.dir, m.contextEntries.listingDigest ?? '');
        if (!unchanged) throw SolveContextErrors.protocol('the client answered the listing with "unchanged" for a digest this daemon did not offer');
        if (journalClean) unchanged = { ...unchanged, listing: 'journal' };
        break;
      }
      if (m.contextEntries.delta) {
        if (journal.kind !== 'paths') throw SolveContextErrors.protocol('the client answered the listing with a delta this daemon did not offer');
        const offered = new Set(journal.paths);
        if ((m.contextEntries.entries ?? []).some((e) => !offered.has(e.path ?? '')) || (m.contextEntries.removed ?? []).some((p) => !offered.has(p))) {
          throw SolveContextErrors.protocol('the client\'s delta names a path the journal did not');
        }
        const merged = mergeListing(journal.previous, m.contextEntries.entries ?? [], m.contextEntries.removed ?? []);
        if (merged !== undefined) {
          entries = merged;
          delta = { changed: m.contextEntries.entries ?? [], removed: m.contextEntries.removed ?? [] };
          break;
        }
        // Something the merge cannot vouch for (a directory came or went meanwhile): a full listing.
        post({ files: { id: 3, list: { includePatterns: [], excludePatterns: [], followPaths: [], knownListingDigest: known, journalClean: false } } });
        continue;
      }
      entries.push(...(m.contextEntries.entries ?? []));
      if (m.contextEntries.done) break;
    }
    const fetch = (fileIds: readonly number[]): AsyncIterable<IncomingChunk> => {
      post({ files: { id: 2, fetch: { fileIds: [...fileIds] } } });
      return (async function* () {
        for (;;) {
          const m = await inbox.next();
          if (m?.fileChunks) {
            for (const c of m.fileChunks.chunks ?? []) yield { fileId: c.fileId ?? 0, data: c.data ?? new Uint8Array(), eof: c.eof ?? false };
            continue;
          }
          if (!m?.fileChunk) throw SolveContextErrors.protocol('expected file_chunk after files.fetch');
          yield { fileId: m.fileChunk.fileId ?? 0, data: m.fileChunk.data ?? new Uint8Array(), eof: m.fileChunk.eof ?? false };
        }
      })();
    };
    const syncOpts = { signal: ctx.signal, maxBytes: deps.maxContextBytes };
    const synced = unchanged ?? (delta !== undefined
      ? await deps.contexts.syncDelta(held.dir, known, entries, delta, fetch, syncOpts)
      : await deps.contexts.sync(held.dir, entries, fetch, syncOpts));
    const report = delta && journalPaths ? { ...synced, listing: { changed: journalPaths.length } } : synced;
    reportTransfer(post, ref, started, report);
    // The copy stays equal to this listing while held: the engine may reuse its checksums of it.
    const version = deps.contexts.knownDigest(held.dir);
    if (version !== '') deps.journals?.settle(held.dir, version, unchanged ? undefined : entries);
    // A delta sync: the copy at `version` differs from the copy at `known` (the listing the delta
    // was merged into) only at the delta's paths.
    const changes = version !== '' && known !== '' && delta !== undefined ? { from: known, paths: [...delta.changed.map((e) => e.path ?? ''), ...delta.removed] } : undefined;
    return { contextDir: held.dir, release: held.release, ...(version !== '' ? { version } : {}), ...(changes ? { changes } : {}) };
  } catch (e) {
    held.release();
    throw e;
  }
}

/**
 * A build may ask for what the daemon's operator allowed and nothing more (as buildkitd's
 * --allow-insecure-entitlement): RUN --security=insecure, and the host's network (`--network host`
 * or `--allow network.host`, for RUN --network=host) would let any client act on the daemon's host.
 */
function checkEntitlements(req: BuildRequest, allowed: readonly string[]): void {
  if (req.allowInsecure && !allowed.includes('security.insecure')) throw DaemonErrors.entitlementNotAllowed('security.insecure', 'the build asked for --allow security.insecure');
  if (req.network === 'host' && !allowed.includes('network.host')) throw DaemonErrors.entitlementNotAllowed('network.host', 'the build asked for --network host');
  if (req.allowNetworkHost && !allowed.includes('network.host')) throw DaemonErrors.entitlementNotAllowed('network.host', 'the build asked for --allow network.host');
}

export async function handleSolve(
  requests: AsyncIterable<SolveRequest>, send: (m: SolveResponse) => Promise<void>, ctx: CallContext, deps: HandlerDeps,
): Promise<void> {
  const releaseSlot = deps.buildSlots.acquire(ctx.principal.name);
  const abort = new AbortController();
  let build: RunningBuild | undefined;
  /** Set once the context is in: from then on an attached client keeps the build going. */
  let detachable = false;
  /** The starting client is gone (or cancelled) but the build goes on for the attached ones. */
  let detached = false;
  // The client's ssh agents (messages go through `post`, below, in order with the rest).
  const tunnels = new SshTunnels(async (m) => { post(m); await chain; });
  const inbox = new SolveInbox(requests, (reason) => {
    const why = new CancelledError(new Error(reason || 'the client sent cancel'));
    if (!detach(why)) abort.abort(why);
  });
  /** Hands the build over to its attached clients; false when there are none (then it is cancelled). */
  const detach = (why: CancelledError): boolean => {
    if (detached) return true;
    if (!detachable || !build || build.keepers === 0) return false;
    detached = true;
    // Its agents are gone with it: a RUN connecting to one now fails at once instead of waiting.
    void tunnels.close();
    const b = build;
    // The starting client hears why its call ends; nothing else is sent to it.
    void send({ error: errorDetailOf(new CancelledError(new Error(`${why.message.replace(/^cancelled(: )?/, '')}; the build goes on for the ${b.keepers} client(s) attached to it (tsbuild attach ${b.info.ref})`))) }).catch(() => undefined);
    inbox.detach();
    b.onUnwatched(() => abort.abort(new CancelledError(new Error('the client that started the build and every client attached to it went away'))));
    return true;
  };
  const onStop = (): void => abort.abort(ctx.stopping.reason);
  const onGone = (): void => {
    if (!detach(ctx.clientGone.reason instanceof CancelledError ? ctx.clientGone.reason : new CancelledError(ctx.clientGone.reason))) abort.abort(ctx.clientGone.reason);
  };
  ctx.stopping.addEventListener('abort', onStop, { once: true });
  ctx.clientGone.addEventListener('abort', onGone, { once: true });
  if (ctx.stopping.aborted) onStop();
  else if (ctx.clientGone.aborted) onGone();
  // Every message goes through one chain so they keep their order; a failed send aborts the build
  // (unless it was handed over to attached clients: then nothing more goes to this client).
  let chain = Promise.resolve();
  const post = (m: SolveResponse): void => {
    if (m.progress) build?.progress(m.progress);
    if (detached) return;
    chain = chain.then(() => (detached ? undefined : send(m))).catch((e: unknown) => {
      if (!detached) abort.abort(e);
    });
  };
  let scratch: string | undefined;
  let prepared: Prepared | undefined;
  let caches: SolveLocalCaches | undefined;
  inbox.onSsh((m) => tunnels.receive(m));
  try {
    const first = await inbox.next();
    const start = first?.start;
    if (!start) throw SolveContextErrors.protocol('the first message must be start');
    const ref = start.ref || randomBytes(12).toString('hex');
    build = deps.builds.add({ ref, client: ctx.principal.name, tags: [...(start.tags ?? [])], target: start.target ?? '', dockerfile: start.dockerfile?.name || 'Dockerfile' });
    post({ accepted: { ref } });
    await mkdir(join(deps.dataRoot, 'solve'), { recursive: true });
    scratch = await mkdtemp(join(deps.dataRoot, 'solve', 'build-'));
    prepared = await receiveContext(start, inbox, post, { ...ctx, signal: abort.signal }, deps, scratch, ref);
    const plan = planOutputs((start.outputs ?? []).map((o) => ({ type: o.type ?? '', attrs: { ...o.attrs } })), scratch);
    // Local caches are on the client: what a cache-from needs is fetched now, while the inbox is read in order.
    caches = new SolveLocalCaches(scratch);
    let req = await caches.prepare(buildRequestOf(start, prepared.contextDir, plan.outputs), inbox, post, deps.engine, abort.signal);
    inbox.pump();
    detachable = true;

    // The client's agents, as sockets here whose connections it relays (solve-ssh-tunnels.ts).
    if ((start.sshIds ?? []).length > 0) req = { ...req, ssh: await tunnels.listen(start.sshIds ?? [], scratch, start.sshMissingSockets ?? {}) };
    if (start.registry?.caPem?.length) {
      // The client's `--registry-ca`, as a file the build's registry client reads (gone with the scratch).
      const caFile = join(scratch, 'registry-ca.pem');
      await writeFile(caFile, start.registry.caPem, { mode: 0o600 });
      req = { ...req, registry: { ...req.registry, caFile } };
    }
    checkEntitlements(req, deps.allowedEntitlements);
    let dockerfile = req.dockerfile;
    if (start.dockerfile?.hasDockerignore) {
      // The engine reads `<Dockerfile path>.dockerignore` first: the client's ignore file, whichever it was.
      const path = join(scratch, 'dockerfile', 'Dockerfile');
      await mkdir(join(scratch, 'dockerfile'));
      await writeFile(`${path}.dockerignore`, start.dockerfile.dockerignore ?? new Uint8Array());
      dockerfile = { ...dockerfile, path };
    }
    const secretIds = new Set(start.secretIds ?? []);
    // Earlier builds of the same client context and Dockerfile name explain this build's misses.
    const historyKey = start.contextKey ? `${ctx.principal.name}:${start.contextKey}:${req.dockerfile.name}` : undefined;
    const result = await deps.engine.build({ ...req, dockerfile, ref, ...(historyKey ? { historyKey } : {}), ...(prepared.version !== undefined ? { contextVersion: prepared.version } : {}), ...(prepared.version !== undefined && prepared.changes !== undefined ? { contextChanges: prepared.changes } : {}) }, {
      signal: abort.signal,
      onProgress: (e) => post({ progress: progressToWire(caches?.renameEvent(e) ?? e) }),
      // A client that lists no ids (tsbuild's own: its lookup cannot enumerate) is asked for any.
      secrets: (id, signal) => (secretIds.size === 0 || secretIds.has(id) ? inbox.askSecret(id, post, signal) : Promise.resolve(undefined)),
      // The client's credentials first (it holds the docker config); the engine's own when it has none.
      ...(start.answersAuth ? { credentials: (host: string, signal: AbortSignal) => inbox.askAuth(host, post, signal) } : {}),
      ...(plan.stdoutIndex !== undefined ? { stdout: stdoutSink(plan.stdoutIndex, async (c) => { post({ output: c }); await chain; }) } : {}),
    });
    await chain;
    await caches.sendExports(async (m) => { post(m); await chain; }, abort.signal);
    await streamOutputs(plan, async (c) => { post({ output: c }); await chain; }, abort.signal);
    const wire = resultToWire(caches.renameResult(result), ref, (start.outputs ?? []).map((o) => o.type ?? ''));
    build.finish({ result: wire });
    post({ result: wire });
    await chain;
    if (abort.signal.aborted) throw abort.signal.reason;
  } catch (thrown) {
    const e = abort.signal.aborted && !(thrown instanceof CancelledError) && asTsbuildError(thrown).code === 'INTERNAL'
      ? new CancelledError(abort.signal.reason)
      : asTsbuildError(thrown);
    // The client's own paths (its agents, its cache directories), not the daemon's scratch, in what it reads.
    e.message = tunnels.rename(caches?.rename(e.message) ?? e.message);
    build?.finish({ error: e });
    if (!detached) await send({ error: errorDetailOf(e) }).catch(() => undefined);
    throw e;
  } finally {
    ctx.stopping.removeEventListener('abort', onStop);
    ctx.clientGone.removeEventListener('abort', onGone);
    if (build) deps.builds.remove(build);
    inbox.close();
    await tunnels.close();
    prepared?.release();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    releaseSlot();
  }
}
