/**
 * The path-precise journal (ListFiles.journal_delta) against the full walk, on real files and real
 * inotify: each round makes random edits to a context — create, modify, delete, rename files and
 * directories, chmod, touch, symlinks, hard links — then takes the steps the daemon's Solve handler
 * takes (src/control/solve-handler.ts: journal begin, the client's delta of the named paths, the
 * daemon's merge, the sync of its copy, settle) and checks that the merged listing is exactly what
 * the client's full walk lists at that moment, and that the copy (synced from the delta alone) is
 * exactly that listing. Also that precision is actually used (a one-file
 * edit is a delta of one path), and that every case it cannot vouch for falls back to the walk.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contextRootId } from '../../src/client/context-root-id.js';
import { listingDigest } from '../../src/client/context-listing-digest.js';
import type { tsbuild } from '../../src/client/gen/control.js';
import { listChangedPaths } from '../../src/client/solve-context-delta.js';
import { listContext } from '../../src/client/solve-context-listing.js';
import { ContextJournals } from '../../src/control/context-journal.js';
import type { WatchedContext } from '../../src/control/context-journal.js';
import { mergeListing } from '../../src/control/context-listing-delta.js';
import { ContextSyncStore } from '../../src/control/solve-context-sync.js';
import type { IncomingChunk } from '../../src/control/context-copy-receive.js';
import { mulberry32 } from '../helpers/prng.js';

type FileStat = tsbuild.control.v1.FileStat.$Properties;
type Outcome = 'clean' | 'delta' | 'walk' | 'refused';

const signal = new AbortController().signal;
const IGNORE = Buffer.from('*.log\nignored\n');

describe('the path-precise context journal', () => {
  let work: string;
  let ctxDir: string;
  let journals: ContextJournals;
  let store: ContextSyncStore;
  let copy: string;
  let ctx: WatchedContext;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'tsbuild-journal-delta-'));
    ctxDir = join(work, 'ctx');
    mkdirSync(join(ctxDir, 'd0', 'd1'), { recursive: true });
    mkdirSync(join(ctxDir, 'ignored'));
    for (const f of ['a', 'b', 'c', 'x.log', 'd0/e', 'd0/d1/f', 'ignored/g']) writeFileSync(join(ctxDir, f), `${f}\n`);
    writeFileSync(join(ctxDir, '.dockerignore'), IGNORE);
    journals = new ContextJournals({ dir: join(work, 'barrier') });
    store = new ContextSyncStore(join(work, 'copies'));
    const held = await store.acquire('me', 'key');
    held.release();
    copy = held.dir;
    ctx = { path: ctxDir, rootId: contextRootId(ctxDir) ?? '', ignore: IGNORE };
  });
  afterEach(async () => {
    journals.close();
    await rm(work, { recursive: true, force: true });
  });

  async function fullWalk(): Promise<{ entries: FileStat[]; files: Map<number, string> }> {
    const entries: FileStat[] = [];
    const files = new Map<number, string>();
    for await (const e of listContext(ctxDir, IGNORE, signal)) {
      entries.push(e.stat);
      files.set(e.stat.fileId ?? 0, e.absPath);
    }
    return { entries, files };
  }

  /** One build's context steps, as the Solve handler and the client take them; the merged listing is checked against a walk. */
  async function build(): Promise<{ outcome: Outcome; paths: number }> {
    const known = store.knownDigest(copy);
    // As the client does for each build: the root's id changes with its entries.
    const answer = await journals.begin(copy, { ...ctx, rootId: contextRootId(ctxDir) ?? '' }, known, signal);
    const walk = await fullWalk();
    let entries = walk.entries;
    let files = walk.files;
    let outcome: Outcome = answer.kind === 'clean' ? 'clean' : 'walk';
    if (answer.kind === 'clean') expect(listingDigest(walk.entries)).toBe(known);
    let delta: { changed: FileStat[]; removed: string[] } | undefined;
    if (answer.kind === 'paths') {
      const listed = await listChangedPaths(ctxDir, IGNORE, answer.paths, signal);
      delta = listed && { changed: listed.changed.map((e) => e.stat), removed: [...listed.removed] };
      const merged = delta && mergeListing(answer.previous, delta.changed, delta.removed);
      outcome = 'refused';
      if (merged !== undefined && delta !== undefined) {
        outcome = 'delta';
        // Exactly the walk's listing: same paths in the same order, same facts.
        expect(merged.map((e) => e.path)).toEqual(walk.entries.map((e) => e.path));
        expect(listingDigest(merged)).toBe(listingDigest(walk.entries));
        entries = merged;
        files = new Map((listed?.changed ?? []).map((e) => [e.stat.fileId ?? 0, e.absPath]));
      }
    }
    if (outcome !== 'clean') {
      const fetch = (ids: readonly number[]): AsyncIterable<IncomingChunk> => (async function* () {
        for (const id of ids) yield { fileId: id, data: readFileSync(files.get(id) ?? '/nonexistent'), eof: true };
      })();
      if (outcome === 'delta') await store.syncDelta(copy, known, entries, delta as { changed: FileStat[]; removed: string[] }, fetch, { signal, maxBytes: 0 });
      else await store.sync(copy, entries, fetch, { signal, maxBytes: 0 });
      // The copy is the listing: what a walk of it lists (times to lutimes' precision).
      const inCopy: FileStat[] = [];
      for await (const e of listContext(copy, undefined, signal)) inCopy.push(e.stat);
      const facts = (l: readonly FileStat[]): unknown[] => l.map((e) => [e.path, e.mode, e.uid, e.gid, e.size, e.linkTarget, e.contentDigest]);
      expect(facts(inCopy)).toEqual(facts(entries));
      const offBy = inCopy.filter((e, i) => Math.abs(Number(e.mtimeNs) - Number(entries[i]?.mtimeNs)) > 2000).map((e) => e.path);
      expect(offBy).toEqual([]);
    }
    journals.settle(copy, store.knownDigest(copy), outcome === 'clean' ? undefined : entries);
    return { outcome, paths: answer.kind === 'paths' ? answer.paths.length : 0 };
  }

  test('a one-file edit is a delta of one path; a no-op is clean', async () => {
    expect((await build()).outcome).toBe('walk');
    expect((await build()).outcome).toBe('clean');
    writeFileSync(join(ctxDir, 'a'), 'edited\n');
    expect(await build()).toEqual({ outcome: 'delta', paths: 1 });
    writeFileSync(join(ctxDir, 'd0', 'd1', 'new'), 'new\n');
    // The file, and its directory (its mtime moved).
    expect(await build()).toEqual({ outcome: 'delta', paths: 2 });
    expect((await build()).outcome).toBe('clean');
  });

  test('a file a layer shares (linked out of the copy) keeps its mode and times when a delta changes only them', async () => {
    expect((await build()).outcome).toBe('walk');
    const shared = join(work, 'layer-a');
    linkSync(join(copy, 'a'), shared);
    const before = lstatSync(shared, { bigint: true });
    chmodSync(join(ctxDir, 'a'), 0o600);
    utimesSync(join(ctxDir, 'a'), 1_000_000, 1_000_000);
    expect(await build()).toEqual({ outcome: 'delta', paths: 1 });
    const after = lstatSync(shared, { bigint: true });
    expect([after.ino, after.mode, after.mtimeNs, after.nlink]).toEqual([before.ino, before.mode, before.mtimeNs, 1n]);
    expect(lstatSync(join(copy, 'a')).mode & 0o7777).toBe(0o600);
    expect(readFileSync(shared, 'utf8')).toBe('a\n');
    expect(readdirSync(join(work, 'copies')).filter((n) => n.endsWith('.detach'))).toEqual([]);
  });

  test('set-user-ID and set-group-ID bits survive a delta (the owner is set before the mode)', async () => {
    chmodSync(join(ctxDir, 'b'), 0o6755);
    expect((await build()).outcome).toBe('walk');
    writeFileSync(join(ctxDir, 'b'), 'edited b\n');
    chmodSync(join(ctxDir, 'b'), 0o6755);
    expect(await build()).toEqual({ outcome: 'delta', paths: 1 });
    expect(lstatSync(join(copy, 'b')).mode & 0o7777).toBe(0o6755);
  });

  test('what the journal cannot vouch for is walked', async () => {
    await build();
    const cases: [string, () => void][] = [
      ['a new directory with contents', () => { mkdirSync(join(ctxDir, 'n')); writeFileSync(join(ctxDir, 'n', 'f'), 'f'); }],
      ['a directory removed', () => rmSync(join(ctxDir, 'n'), { recursive: true })],
      ['a directory renamed', () => renameSync(join(ctxDir, 'd0'), join(ctxDir, 'd9'))],
      ['a directory moved in', () => { mkdirSync(join(work, 'out')); writeFileSync(join(work, 'out', 'h'), 'h'); renameSync(join(work, 'out'), join(ctxDir, 'in')); }],
      ['a hard link', () => linkSync(join(ctxDir, 'b'), join(ctxDir, 'b2'))],
      ['a symlink', () => symlinkSync('a', join(ctxDir, 'sl'))],
    ];
    for (const [what, change] of cases) {
      change();
      expect({ what, outcome: (await build()).outcome }).toEqual({ what, outcome: 'walk' });
      expect({ what, outcome: (await build()).outcome }).toEqual({ what, outcome: 'clean' });
    }
  });

  test('the merge refuses what it cannot know: a directory that came, went or changed kind, an orphan', () => {
    const dir = (path: string): FileStat => ({ path, mode: 0o40755 });
    const file = (path: string): FileStat => ({ path, mode: 0o100644, fileId: 9 });
    const previous = [dir('d'), file('d/f'), file('d-e'), file('z')];
    expect(mergeListing(previous, [dir('n')], [])).toBeUndefined();
    expect(mergeListing(previous, [], ['d'])).toBeUndefined();
    expect(mergeListing(previous, [file('d')], [])).toBeUndefined();
    expect(mergeListing(previous, [file('q/f')], [])).toBeUndefined();
    // Walk order: `d/…` before `d-e` (components compared, not whole strings).
    expect(mergeListing(previous, [file('d/g'), file('a')], ['z'])?.map((e) => [e.path, e.fileId])).toEqual([['a', 9], ['d', undefined], ['d/f', 0], ['d/g', 9], ['d-e', 0]]);
  });

  test('random edits: every listing equals the full walk', async () => {
    const seed = Number(process.env['JOURNAL_SEED'] ?? Date.now() % 1_000_000);
    const rand = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(rand() * xs.length)];
    let next = 0;
    const tree = (): { files: string[]; dirs: string[] } => {
      const files: string[] = [];
      const dirs: string[] = [''];
      const visit = (rel: string): void => {
        for (const d of readdirSync(join(ctxDir, rel), { withFileTypes: true })) {
          const p = rel === '' ? d.name : `${rel}/${d.name}`;
          if (p === '.dockerignore') continue;
          if (d.isDirectory()) { dirs.push(p); visit(p); } else files.push(p);
        }
      };
      visit('');
      return { files, dirs };
    };
    const at = (p: string): string => join(ctxDir, p);
    const child = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);
    const ops: ((t: { files: string[]; dirs: string[] }) => void)[] = [
      (t) => writeFileSync(at(child(pick(t.dirs) ?? '', `n${next++}${rand() < 0.2 ? '.log' : ''}`)), 'new\n'),
      (t) => { const f = pick(t.files); if (f !== undefined && !lstatSync(at(f)).isSymbolicLink()) writeFileSync(at(f), `v${next++}\n`, { flag: 'a' }); },
      (t) => { const f = pick(t.files); if (f !== undefined) rmSync(at(f)); },
      (t) => { const f = pick(t.files); if (f !== undefined) renameSync(at(f), at(child(pick(t.dirs) ?? '', `r${next++}`))); },
      (t) => { const f = pick(t.files); if (f !== undefined && !lstatSync(at(f)).isSymbolicLink()) chmodSync(at(f), rand() < 0.5 ? 0o600 : 0o755); },
      (t) => { const f = pick(t.files); if (f !== undefined && !lstatSync(at(f)).isSymbolicLink()) utimesSync(at(f), 1_000_000 + next, 1_000_000 + next++); },
      (t) => { const d = pick(t.dirs.slice(1)); if (d !== undefined) chmodSync(at(d), rand() < 0.5 ? 0o700 : 0o755); },
      (t) => { const d = pick(t.dirs.slice(1)); if (d !== undefined) utimesSync(at(d), 2_000_000 + next, 2_000_000 + next++); },
      (t) => mkdirSync(at(child(pick(t.dirs) ?? '', `m${next++}`))),
      (t) => { const d = child(pick(t.dirs) ?? '', `m${next++}`); mkdirSync(at(d)); writeFileSync(at(`${d}/inside`), 'in\n'); },
      (t) => { const d = pick(t.dirs.slice(1)); if (d !== undefined && rand() < 0.3) rmSync(at(d), { recursive: true }); },
      (t) => { const d = pick(t.dirs.slice(1)); if (d !== undefined && !d.startsWith('ignored')) { try { renameSync(at(d), at(`q${next++}`)); } catch { /* into itself */ } } },
      (t) => symlinkSync(pick(t.files) ?? 'a', at(child(pick(t.dirs) ?? '', `s${next++}`))),
      // A second name where no watch is (the excluded directory) is inotify's blind spot, as documented.
      (t) => { const f = pick(t.files); if (f !== undefined && !lstatSync(at(f)).isSymbolicLink()) linkSync(at(f), at(child(pick(t.dirs.filter((d) => !d.startsWith('ignored'))) ?? '', `h${next++}`))); },
      (t) => { const f = pick(t.files.filter((p) => !p.includes('/'))); if (f !== undefined && !lstatSync(at(f)).isSymbolicLink()) writeFileSync(at(f), 'same size\n'); },
    ];
    // Mostly the edits precision serves (contents, modes, times, files coming and going).
    const weights = [4, 8, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 3];
    const weighted = weights.flatMap((w, i) => new Array<number>(w).fill(i));
    const seen: Record<Outcome, number> = { clean: 0, delta: 0, walk: 0, refused: 0 };
    await build();
    for (let round = 0; round < 80; round++) {
      const edits = 1 + Math.floor(rand() * 3);
      const done: number[] = [];
      for (let k = 0; k < edits; k++) {
        const op = pick(weighted) ?? 0;
        done.push(op);
        (ops[op] as (t: { files: string[]; dirs: string[] }) => void)(tree());
      }
      try {
        seen[(await build()).outcome]++;
      } catch (e) {
        throw new Error(`seed ${seed}, round ${round}, ops ${done.join(",")}: ${String(e)}`);
      }
    }
    // The test must exercise the delta path, not only fall back.
    expect(seen.delta).toBeGreaterThan(10);
  }, 60_000);
});
