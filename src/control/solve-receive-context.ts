/**
 * The context of one Solve (docs/solve.md): its directory, known as soon as `start` is read (the
 * client's synced copy, or an empty scratch directory for a tar or no context), and `fill`, which
 * receives it from the stream — listing, fetched files, or tar chunks. The handler starts the build
 * between the two (Engine.buildReceiving), so steps that do not read the context run while it
 * arrives, as BuildKit's do. `fill` reads the inbox until the context is complete; it stops early
 * (a CancelledError) when its signal aborts, e.g. because the build already failed.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { tsbuild } from '../client/gen/control.js';
import { tsbuild as gen } from '../client/gen/control.js';
import type { ReceivedContext } from '../engine/index.js';
import { abortable } from '../solver/abortable.js';
import { extractTar } from '../util/tar-extract.js';
import { DaemonErrors } from './errors.js';
import type { IncomingChunk } from './context-copy-receive.js';
import { SolveContextErrors } from './solve-context-errors.js';
import type { ContextSyncStore, SyncReport } from './solve-context-sync.js';
import type { SolveInbox } from './solve-inbox.js';
import type { ContextJournals, JournalAnswer } from './context-journal.js';
import { mergeListing } from './context-listing-delta.js';
import { unaskedFileIds } from '../client/context-contents-follow.js';
import { reportTransfer } from './solve-transfer-progress.js';
import type { CallContext } from './types.js';

const pb = gen.control.v1;
type SolveResponse = tsbuild.control.v1.SolveResponse.$Properties;
type BuildStart = tsbuild.control.v1.BuildStart.$Properties;

export interface ReceiveDeps {
  readonly contexts: ContextSyncStore;
  readonly journals?: ContextJournals;
  /** `--max-context-size`; 0: unlimited. */
  readonly maxContextBytes: number;
}

export interface IncomingContext {
  readonly contextDir: string;
  /** Lets go of the directory (a synced copy: the next build of the same context may sync it). */
  readonly release: () => void;
  /**
   * A synced copy: its files are never changed in place while linked, nor links of each other, so
   * a COPY may link them into layers (BuildRequest.contextLinkable, context-copy-detach.ts).
   */
  readonly linkable: boolean;
  /**
   * Receives the context into `contextDir`; resolves with the version a synced copy now has (its
   * listing digest; the earlier version and the paths a journal delta changed). Call once.
   * `asked` is called once the client has been asked for what it must send (or nothing needs
   * asking: a tar comes unasked), or as soon as getting there may take long (the journal walks the
   * context to watch it).
   */
  fill(inbox: SolveInbox, post: (m: SolveResponse) => void, signal: AbortSignal, asked?: () => void): Promise<ReceivedContext>;
}

export async function openContext(start: BuildStart, ctx: CallContext, deps: ReceiveDeps, scratch: string, ref: string): Promise<IncomingContext> {
  const transfer = start.contextTransfer ?? pb.ContextTransfer.CONTEXT_TRANSFER_UNSPECIFIED;
  if (transfer === pb.ContextTransfer.CONTEXT_TRANSFER_NONE || transfer === pb.ContextTransfer.CONTEXT_TRANSFER_TAR) {
    const contextDir = join(scratch, 'context');
    await mkdir(contextDir);
    const receive = transfer === pb.ContextTransfer.CONTEXT_TRANSFER_NONE
      ? () => Promise.resolve({})
      : (inbox: SolveInbox, post: (m: SolveResponse) => void, signal: AbortSignal) => receiveTar(contextDir, inbox, post, signal, deps, ref);
    // Nothing is asked of the client: a tar comes unasked.
    const fill: IncomingContext['fill'] = (inbox, post, signal, asked) => {
      asked?.();
      return receive(inbox, post, signal);
    };
    return { contextDir, release: () => undefined, linkable: false, fill };
  }
  const held = await deps.contexts.acquire(ctx.principal.name, start.contextKey || `build:${ref}`);
  return {
    contextDir: held.dir,
    release: held.release,
    linkable: true,
    fill: (inbox, post, signal, asked) => syncCopy(held.dir, start, inbox, post, { ...ctx, signal }, deps, ref, asked),
  };
}

async function receiveTar(contextDir: string, inbox: SolveInbox, post: (m: SolveResponse) => void, signal: AbortSignal, deps: ReceiveDeps, ref: string): Promise<ReceivedContext> {
  const started = Date.now();
  let bytes = 0;
  await extractTar((async function* () {
    for (;;) {
      const m = await abortable(inbox.next(), signal);
      if (!m?.contextTar) throw SolveContextErrors.protocol('expected context_tar chunks after start');
      bytes += m.contextTar.data?.length ?? 0;
      if (deps.maxContextBytes > 0 && bytes > deps.maxContextBytes) throw DaemonErrors.contextTooLarge(deps.maxContextBytes);
      if (m.contextTar.data?.length) yield m.contextTar.data;
      if (m.contextTar.eof) return;
    }
  })(), contextDir, signal);
  reportTransfer(post, ref, started, { bytes, files: 0, totalFiles: 0, totalBytes: bytes });
  return {};
}

/** Syncs the client's copy `dir` (held by this build) with the client's context. */
async function syncCopy(dir: string, start: BuildStart, inbox: SolveInbox, post: (m: SolveResponse) => void, ctx: CallContext & { readonly signal: AbortSignal }, deps: ReceiveDeps, ref: string, asked: () => void = () => undefined): Promise<ReceivedContext> {
  const next = (): ReturnType<SolveInbox['next']> => abortable(inbox.next(), ctx.signal);
  const started = Date.now();
  const known = deps.contexts.knownDigest(dir);
  // A client on this machine (a unix socket) that named its context directory: the journal may
  // spare its walk. A tcp client's directory is not ours to watch, whatever it names.
  const watched = ctx.local === true ? start.contextWatch : undefined;
  const journal: JournalAnswer = typeof watched?.path === 'string' && watched.path !== '' && deps.journals !== undefined
    ? await deps.journals.begin(dir, { path: watched.path, rootId: watched.rootId ?? '', ignore: start.dockerfile?.hasDockerignore ? start.dockerfile.dockerignore ?? new Uint8Array() : undefined }, known, ctx.signal, asked)
    : { kind: 'walk' };
  const journalClean = journal.kind === 'clean';
  const journalPaths = journal.kind === 'paths' ? journal.paths : undefined;
  let entries: tsbuild.control.v1.FileStat.$Properties[] = [];
  // A clean journal vouches for the copy: the client, asked with `journal_clean`, would answer
  // `unchanged` without walking, so it is not asked. That round trip through the client (its
  // wake-up, a message each way) stood between the build and its first read of the context (issue 10).
  const vouched = journalClean ? deps.contexts.unchanged(dir, known) : undefined;
  let unchanged: SyncReport | undefined = vouched ? { ...vouched, listing: 'journal' } : undefined;
  let delta: { readonly changed: readonly tsbuild.control.v1.FileStat.$Properties[]; readonly removed: readonly string[] } | undefined;
  // A copy that holds no file yet fetches every file: the client may send the small ones right
  // after its listing, unasked (ListFiles.send_contents); and the small files of a delta after it
  // (ListFiles.delta_contents), which are what an edit changed.
  const empty = known === '' && deps.contexts.holdsNoFiles(dir);
  /** The file ids the client sends unasked after its listing or delta (contents_follow), until they are fetched. */
  let unasked: Set<number> | undefined;
  if (unchanged === undefined) {
    post({ files: { id: 1, list: { includePatterns: [], excludePatterns: [], followPaths: [], knownListingDigest: known, journalClean, ...(journalPaths ? { journalDelta: true, journalPaths: [...journalPaths], deltaContents: true } : {}), ...(empty ? { sendContents: true } : {}) } } });
  }
  asked();
  while (unchanged === undefined) {
    const m = await next();
    if (!m?.contextEntries) throw SolveContextErrors.protocol('expected context_entries after files.list');
    if (m.contextEntries.unchanged) {
      unchanged = deps.contexts.unchanged(dir, m.contextEntries.listingDigest ?? '');
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
      const coming = m.contextEntries.contentsFollow ? new Set(unaskedFileIds(m.contextEntries.entries ?? [])) : undefined;
      const merged = mergeListing(journal.previous, m.contextEntries.entries ?? [], m.contextEntries.removed ?? []);
      if (merged !== undefined) {
        entries = merged;
        delta = { changed: m.contextEntries.entries ?? [], removed: m.contextEntries.removed ?? [] };
        unasked = coming;
        break;
      }
      // Something the merge cannot vouch for (a directory came or went meanwhile): a full listing,
      // once the files sent with the delta are read.
      if (coming !== undefined) await dropFiles(coming, next);
      post({ files: { id: 3, list: { includePatterns: [], excludePatterns: [], followPaths: [], knownListingDigest: known, journalClean: false } } });
      continue;
    }
    entries.push(...(m.contextEntries.entries ?? []));
    if (m.contextEntries.contentsFollow) {
      if (!empty || !m.contextEntries.done) throw SolveContextErrors.protocol('the client sent contents_follow where the daemon did not ask for contents');
      unasked = new Set(unaskedFileIds(entries));
    }
    if (m.contextEntries.done) break;
  }
  const fetch = (fileIds: readonly number[]): AsyncIterable<IncomingChunk> => {
    // The sync takes every file sent unasked (SyncOptions.coming), so they are among `fileIds`;
    // only the rest is asked for. The client sends them after the unasked ones.
    const coming = unasked ?? new Set<number>();
    unasked = undefined;
    const asked = fileIds.filter((id) => !coming.has(id));
    if (asked.length + coming.size !== fileIds.length) throw SolveContextErrors.protocol('the client sent files unasked that the sync does not want');
    if (asked.length > 0) post({ files: { id: 2, fetch: { fileIds: asked } } });
    return (async function* () {
      for (;;) {
        const chunks = chunksOf(await next());
        if (chunks === undefined) throw SolveContextErrors.protocol('expected file_chunk after files.fetch');
        for (const c of chunks) yield { fileId: c.fileId ?? 0, data: c.data ?? new Uint8Array(), eof: c.eof ?? false };
      }
    })();
  };
  const syncOpts = { signal: ctx.signal, maxBytes: deps.maxContextBytes, ...(unasked ? { coming: unasked } : {}) };
  const synced = unchanged ?? (delta !== undefined
    ? await deps.contexts.syncDelta(dir, known, entries, delta, fetch, syncOpts)
    : await deps.contexts.sync(dir, entries, fetch, syncOpts));
  const report = delta && journalPaths ? { ...synced, listing: { changed: journalPaths.length } } : synced;
  reportTransfer(post, ref, started, report);
  // The copy stays equal to this listing while held: the engine may reuse its checksums of it.
  const version = deps.contexts.knownDigest(dir);
  if (version !== '') deps.journals?.settle(dir, version, unchanged ? undefined : entries);
  // A delta sync: the copy at `version` differs from the copy at `known` (the listing the delta
  // was merged into) only at the delta's paths.
  const changes = version !== '' && known !== '' && delta !== undefined ? { from: known, paths: [...delta.changed.map((e) => e.path ?? ''), ...delta.removed] } : undefined;
  return { ...(version !== '' ? { contextVersion: version } : {}), ...(version !== '' && changes ? { contextChanges: changes } : {}) };
}

/** Reads and drops the files the client sent unasked (`ids`, each up to its chunk with eof). */
async function dropFiles(ids: ReadonlySet<number>, next: () => ReturnType<SolveInbox['next']>): Promise<void> {
  const open = new Set(ids);
  while (open.size > 0) {
    const chunks = chunksOf(await next());
    if (chunks === undefined) throw SolveContextErrors.protocol('expected the files the client sent with its delta');
    for (const c of chunks) {
      if (!open.has(c.fileId ?? 0)) throw SolveContextErrors.protocol(`a file chunk for file ${c.fileId ?? 0}, which the delta did not send`);
      if (c.eof) open.delete(c.fileId ?? 0);
    }
  }
}

/** The file chunks a message carries (file_chunks or one file_chunk); undefined when it has none. */
function chunksOf(m: Awaited<ReturnType<SolveInbox['next']>>): readonly tsbuild.control.v1.IFileChunk[] | undefined {
  if (m?.fileChunks) return m.fileChunks.chunks ?? [];
  return m?.fileChunk ? [m.fileChunk] : undefined;
}
