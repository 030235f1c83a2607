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
import { mkdirSync, realpathSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { tsbuild } from '../client/gen/control.js';
import { tsbuild as gen } from '../client/gen/control.js';
import { buildRequestOf, resultToWire } from '../client/solve-wire-build.js';
import { progressToWire } from '../client/solve-wire-progress.js';
import type { BuildRequest, Engine, ReceivedContext } from '../engine/index.js';
import { CancelledError } from '../util/errors.js';
import type { BuildSlots } from './build-slots.js';
import type { RunningBuild, RunningBuilds } from './running-builds.js';
import { asTsbuildError, DaemonErrors, errorDetailOf } from './errors.js';
import { SolveContextErrors } from './solve-context-errors.js';
import { ContextSyncStore } from './solve-context-sync.js';
import { SolveInbox } from './solve-inbox.js';
import { QuietProgress } from './solve-quiet-progress.js';
import { openContext } from './solve-receive-context.js';
import { hasDirectoryContexts, receiveNamedContexts } from './solve-named-contexts.js';
import type { IncomingContext } from './solve-receive-context.js';
import { ContextJournals } from './context-journal.js';
import type { ContextJournalOptions } from './context-journal.js';
import { SshTunnels } from './solve-ssh-tunnels.js';
import { SolveLocalCaches } from './solve-local-cache.js';
import { planOutputs, stdoutSink, streamOutputs } from './solve-outputs.js';
import type { OutputPlan } from './solve-outputs.js';
import type { BidiStreamHandler, CallContext } from './types.js';

const pb = gen.control.v1;
type SolveRequest = tsbuild.control.v1.SolveRequest;
type BuildStart = tsbuild.control.v1.BuildStart.$Properties;
type SolveResponse = tsbuild.control.v1.SolveResponse.$Properties;

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
  const { hasher, storage } = deps.engine.services;
  // The files a cold sync writes are not read again by the checksums of the build (WrittenContent).
  const contexts = new ContextSyncStore(join(deps.dataRoot, 'solve', 'contexts'), {
    digest: (data) => hasher.fileDigest(data),
    remember: (dir, rows) => {
      try {
        storage.statCache.putMany(realpathSync.native(dir), rows);
      } catch {
        // Only a shortcut: without the rows the checksums read the files.
      }
    },
  });
  const journals = deps.contextJournal === false ? undefined : new ContextJournals({ ...deps.contextJournal, dir: join(deps.dataRoot, 'solve', 'journal') });
  return (requests, send, ctx) => handleSolve(requests, send, ctx, { ...deps, contexts, ...(journals ? { journals } : {}) });
}

/**
 * Whether a build needs its scratch directory: for a context from a tar (or none), output files
 * streamed back to the client, local caches, the client's agents' sockets, a `--registry-ca` file.
 * Others (a plain build into the image store, a no-op) make and remove no directory (issue 10).
 */
function needsScratch(start: BuildStart, plan: OutputPlan): boolean {
  const transfer = start.contextTransfer ?? pb.ContextTransfer.CONTEXT_TRANSFER_UNSPECIFIED;
  return transfer === pb.ContextTransfer.CONTEXT_TRANSFER_NONE || transfer === pb.ContextTransfer.CONTEXT_TRANSFER_TAR
    || plan.files.length > 0
    || [...(start.cacheFrom ?? []), ...(start.cacheTo ?? [])].some((c) => c.type === 'local')
    || (start.sshIds ?? []).length > 0
    || (start.registry?.caPem?.length ?? 0) > 0
    || hasDirectoryContexts(start);
}

type HandlerDeps = SolveDeps & { readonly contexts: ContextSyncStore; readonly journals?: ContextJournals };

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
  // The engine's collection after the build waits until the call is over: calls.ts ends it (the
  // status, which the client waits for) as this handler settles, before an immediate runs. Started
  // once the result was written, its synchronous walks came before the handler's last steps and
  // the status (issue 10).
  let delivered: () => void = () => undefined;
  const resultDelivered = new Promise<void>((resolve) => (delivered = resolve));
  try {
    await solve(requests, send, ctx, deps, resultDelivered);
  } finally {
    setImmediate(delivered);
  }
}

async function solve(
  requests: AsyncIterable<SolveRequest>, send: (m: SolveResponse) => Promise<void>, ctx: CallContext, deps: HandlerDeps, resultDelivered: Promise<void>,
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
  const enqueue = (m: SolveResponse): void => {
    chain = chain.then(() => (detached ? undefined : send(m))).catch((e: unknown) => {
      if (!detached) abort.abort(e);
    });
  };
  // A quiet client's progress is held back until the build fails (solve-quiet-progress.ts).
  let quiet = new QuietProgress<SolveResponse>(false);
  const post = (m: SolveResponse): void => {
    if (m.progress) build?.progress(m.progress);
    if (detached) return;
    if (!quiet.hold(m)) enqueue(m);
    else if (quiet.overflowed) for (const held of quiet.release()) enqueue(held);
  };
  let scratch: string | undefined;
  let incoming: IncomingContext | undefined;
  /** Settles once the context is in (or its receiving stopped); the copy is held until then. */
  let filled: Promise<unknown> = Promise.resolve();
  let contextError: unknown;
  const receiving = new AbortController();
  const stopReceiving = (): void => receiving.abort(abort.signal.reason);
  abort.signal.addEventListener('abort', stopReceiving, { once: true });
  let caches: SolveLocalCaches | undefined;
  inbox.onSsh((m) => tunnels.receive(m));
  try {
    const first = await inbox.next();
    const start = first?.start;
    if (!start) throw SolveContextErrors.protocol('the first message must be start');
    quiet = new QuietProgress(start.progressOnFailure === true);
    const ref = start.ref || randomBytes(12).toString('hex');
    build = deps.builds.add({ ref, client: ctx.principal.name, tags: [...(start.tags ?? [])], target: start.target ?? '', dockerfile: start.dockerfile?.name || 'Dockerfile' });
    post({ accepted: { ref } });
    // The build's scratch directory: its path at once, the directory only when the build needs one
    // (made and removed with synchronous calls: thread-pool round trips cost more, issue 10).
    const scratchPath = join(deps.dataRoot, 'solve', `build-${randomBytes(9).toString('base64url')}`);
    const plan = planOutputs((start.outputs ?? []).map((o) => ({ type: o.type ?? '', attrs: { ...o.attrs } })), scratchPath);
    if (needsScratch(start, plan)) {
      mkdirSync(join(deps.dataRoot, 'solve'), { recursive: true });
      mkdirSync(scratchPath, { mode: 0o700 });
      scratch = scratchPath;
    }
    incoming = await openContext(start, ctx, deps, scratchPath, ref);
    const opened = incoming;
    // Local caches are on the client: what a cache-from needs is fetched now, while the inbox is read in order.
    caches = new SolveLocalCaches(scratchPath);
    const asked = buildRequestOf(start, opened.contextDir, plan.outputs);
    // The build starts while the context arrives (its FROM and a RUN before the first COPY run
    // meanwhile), unless a local cache import must be read from the stream first: that comes after
    // the context. Once the context is in, the pump routes the rest and attached clients may keep
    // the build going.
    // Directory build contexts too: they are asked for after the context, before the build starts.
    const deferred = !(asked.cacheFrom ?? []).some((c) => c.kind === 'local') && !hasDirectoryContexts(start);
    // The client is asked for its context before the front end and solver take the event loop: a
    // journal's barrier (one inotify event) waited behind their synchronous start (~5-10 ms of a
    // one-file edit, issue 14), and the client answers while they run.
    let onAsked: () => void = () => undefined;
    const askedClient = new Promise<void>((resolve) => (onAsked = resolve));
    const receive = async (): Promise<ReceivedContext> => {
      const got = await opened.fill(inbox, post, receiving.signal, onAsked);
      if (!deferred) return got;
      inbox.pump();
      detachable = true;
      return got;
    };
    let context: Promise<ReceivedContext>;
    if (deferred) {
      context = receive();
      // A context that fails stops the build; the handler reports the context's error, not the cancellation.
      filled = context.catch((e: unknown) => {
        contextError ??= e;
        abort.abort(e);
      });
      await Promise.race([askedClient.then(() => chain), filled]);
    } else {
      context = Promise.resolve(await receive());
    }
    let req = await caches.prepare(asked, inbox, post, deps.engine, abort.signal);
    req = await receiveNamedContexts(req, inbox, post, scratchPath, deps.maxContextBytes, abort.signal);
    if (!deferred) {
      inbox.pump();
      detachable = true;
    }

    // The client's agents, as sockets here whose connections it relays (solve-ssh-tunnels.ts).
    if ((start.sshIds ?? []).length > 0) req = { ...req, ssh: await tunnels.listen(start.sshIds ?? [], scratchPath, start.sshMissingSockets ?? {}) };
    if (start.registry?.caPem?.length) {
      // The client's `--registry-ca`, as a file the build's registry client reads (gone with the scratch).
      const caFile = join(scratchPath, 'registry-ca.pem');
      await writeFile(caFile, start.registry.caPem, { mode: 0o600 });
      req = { ...req, registry: { ...req.registry, caFile } };
    }
    checkEntitlements(req, deps.allowedEntitlements);
    // The client's ignore file, whichever it was, or none: the engine reads neither of the context's
    // (the context directory may still hold an old one while it syncs). It stands next to a
    // Dockerfile path in the scratch, which names it in messages.
    const dockerignore = start.dockerfile?.hasDockerignore ? Buffer.from(start.dockerfile.dockerignore ?? new Uint8Array()).toString('utf8') : '';
    const dockerfile = { ...req.dockerfile, path: join(scratchPath, 'dockerfile', 'Dockerfile') };
    const secretIds = new Set(start.secretIds ?? []);
    // Earlier builds of the same client context and Dockerfile name explain this build's misses.
    const historyKey = start.contextKey ? `${ctx.principal.name}:${start.contextKey}:${req.dockerfile.name}` : undefined;
    const result = await deps.engine.buildReceiving({ ...req, dockerfile, dockerignore, ref, ...(historyKey ? { historyKey } : {}), ...(opened.linkable ? { contextLinkable: true } : {}) }, {
      signal: abort.signal,
      delivered: resultDelivered,
      onProgress: (e) => post({ progress: progressToWire(caches?.renameEvent(e) ?? e) }),
      // A client that lists no ids (tsbuild's own: its lookup cannot enumerate) is asked for any.
      secrets: (id, signal) => (secretIds.size === 0 || secretIds.has(id) ? inbox.askSecret(id, post, signal) : Promise.resolve(undefined)),
      // The client's credentials first (it holds the docker config); the engine's own when it has none.
      ...(start.answersAuth ? { credentials: (host: string, signal: AbortSignal) => inbox.askAuth(host, post, signal) } : {}),
      ...(plan.stdoutIndex !== undefined ? { stdout: stdoutSink(plan.stdoutIndex, async (c) => { post({ output: c }); await chain; }) } : {}),
    }, context);
    // A build that never read its context still ends after it arrived (and the copy stays held until then).
    await context;
    await chain;
    await caches.sendExports(async (m) => { post(m); await chain; }, abort.signal);
    await streamOutputs(plan, async (c) => { post({ output: c }); await chain; }, abort.signal);
    const wire = resultToWire(caches.renameResult(result), ref, (start.outputs ?? []).map((o) => o.type ?? ''));
    build.finish({ result: wire });
    quiet.drop();
    post({ result: wire });
    await chain;
    if (abort.signal.aborted) throw abort.signal.reason;
  } catch (caught) {
    const thrown = contextError ?? caught;
    const e = contextError === undefined && abort.signal.aborted && !(thrown instanceof CancelledError) && asTsbuildError(thrown).code === 'INTERNAL'
      ? new CancelledError(abort.signal.reason)
      : asTsbuildError(thrown);
    // The client's own paths (its agents, its cache directories), not the daemon's scratch, in what it reads.
    e.message = tunnels.rename(caches?.rename(e.message) ?? e.message);
    build?.finish({ error: e });
    // Through the chain, after the progress already posted (and what a quiet client's was held
    // back): an error never overtakes it.
    for (const held of quiet.release()) enqueue(held);
    post({ error: errorDetailOf(e) });
    await chain;
    throw e;
  } finally {
    ctx.stopping.removeEventListener('abort', onStop);
    ctx.clientGone.removeEventListener('abort', onGone);
    if (build) deps.builds.remove(build);
    inbox.close();
    await tunnels.close();
    // The copy is released only once nothing writes to it any more.
    receiving.abort(new CancelledError(new Error('the build ended')));
    await filled;
    abort.signal.removeEventListener('abort', stopReceiving);
    incoming?.release();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    releaseSlot();
  }
}
