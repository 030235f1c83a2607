/**
 * One conformance suite for every CacheRecordStore implementation (BuildKit runs one suite against
 * every cache-storage backend): the SQLite store over the directory stand-in and over the real
 * overlay2 snapshotter, the in-memory store, and the remote-import store in front of the SQLite
 * one. Each behaviour the solver relies on is checked the same way on all of them, lease included
 * where the store offers one.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStorage } from '../../src/cache/cache-storage.js';
import { RemoteRecordStore } from '../../src/cache/remote/remote-record-store.js';
import { inventoryFromSnapshotter } from '../../src/cache/snapshot-inventory.js';
import { MemoryCacheStore } from '../../src/solver/memory-cache-store.js';
import type { CacheRecordStore } from '../../src/solver/cache-types.js';
import { Overlay2Snapshotter } from '../../src/worker/snapshot/overlay2-snapshotter.js';
import { execFileSync } from 'node:child_process';
import { repoRoot } from '../helpers/paths.js';
import { describeIf, isRoot } from '../helpers/skip.js';
import { DirInventory } from './helpers/dir-inventory.js';

interface Subject {
  readonly store: CacheRecordStore;
  /** A new stored result; its id. */
  makeResult(): Promise<string>;
  /** Removes a result, as prune would. */
  dropResult(id: string): Promise<void>;
  /** Moves the store's clock (ms). */
  advance(ms: number): void;
  cleanup(): Promise<void>;
}

type Factory = () => Promise<Subject>;

async function sqliteOver(kind: 'dirs' | 'overlay2'): Promise<Subject> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-conformance-'));
  const root = join(dir, 'root');
  let clock = 1_000_000;
  let storage: CacheStorage;
  let makeResult: () => Promise<string>;
  let dropResult: (id: string) => Promise<void>;
  let closeSnap = async (): Promise<void> => undefined;
  if (kind === 'dirs') {
    const inv = new DirInventory(join(root, 'overlay2'));
    storage = await CacheStorage.open({ root, inventory: inv, now: () => clock });
    makeResult = () => inv.create({ bytes: 3 });
    dropResult = (id) => inv.remove(id);
  } else {
    const snap = new Overlay2Snapshotter({ root });
    storage = await CacheStorage.open({ root, inventory: inventoryFromSnapshotter(snap, { overlayDir: snap.layout.dir }), now: () => clock });
    makeResult = async () => {
      const a = await snap.prepare();
      return snap.commit(a);
    };
    dropResult = (id) => snap.remove(id);
    closeSnap = () => snap.close();
  }
  return {
    store: storage.records,
    makeResult,
    dropResult,
    advance: (ms) => (clock += ms),
    cleanup: async () => {
      storage.close();
      await closeSnap();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function memory(): Promise<Subject> {
  let clock = 1_000_000;
  let n = 0;
  const live = new Set<string>();
  return {
    store: new MemoryCacheStore({ now: () => clock, resultExists: (id) => live.has(id) }),
    makeResult: async () => {
      const id = `result-${++n}`;
      live.add(id);
      return id;
    },
    dropResult: async (id) => void live.delete(id),
    advance: (ms) => (clock += ms),
    cleanup: async () => undefined,
  };
}

async function remoteOverSqlite(): Promise<Subject> {
  const inner = await sqliteOver('dirs');
  const local = inner.store;
  // The remote store keeps the local store's records and semantics when nothing is imported.
  const probe = inner;
  const store = new RemoteRecordStore({ local, exists: async () => true, caches: [] });
  return { ...probe, store };
}

const subjects: ReadonlyArray<readonly [string, Factory, boolean]> = [
  ['SqliteCacheStore over the directory stand-in', () => sqliteOver('dirs'), true],
  ['SqliteCacheStore over the real overlay2 snapshotter', () => sqliteOver('overlay2'), isRoot],
  ['MemoryCacheStore', memory, true],
  ['RemoteRecordStore in front of SqliteCacheStore (no imports)', remoteOverSqlite, true],
];

for (const [name, factory, runnable] of subjects) {
  describeIf(runnable, 'needs root (overlay mounts)', `CacheRecordStore conformance: ${name}`, () => {
    let s: Subject;
    beforeEach(async () => {
      s = await factory();
    });
    afterEach(async () => s.cleanup());

    test('save then lookup; a hit counts a use and moves last-used; other outputs and keys miss', async () => {
      const r = await s.makeResult();
      const saved = await s.store.save({ key: 'sha256:k1', output: 0, resultId: r, recordType: 'regular', description: 'RUN make', size: 3 });
      expect(saved).toMatchObject({ key: 'sha256:k1', output: 0, resultId: r, useCount: 0, recordType: 'regular', description: 'RUN make' });
      s.advance(500);
      const hit = await s.store.lookup('sha256:k1', 0);
      expect(hit?.resultId).toBe(r);
      expect(hit?.useCount).toBe(1);
      expect((hit?.lastUsedAt ?? 0) - saved.createdAt).toBe(500);
      expect(await s.store.lookup('sha256:k1', 1)).toBeUndefined();
      expect(await s.store.lookup('sha256:k2', 0)).toBeUndefined();
    });

    test('outputs of one key are independent records', async () => {
      const [a, b] = [await s.makeResult(), await s.makeResult()];
      await s.store.save({ key: 'sha256:m', output: 0, resultId: a, recordType: 'regular', description: 'x' });
      await s.store.save({ key: 'sha256:m', output: 1, resultId: b, recordType: 'regular', description: 'x' });
      expect((await s.store.lookup('sha256:m', 0))?.resultId).toBe(a);
      expect((await s.store.lookup('sha256:m', 1))?.resultId).toBe(b);
    });

    test('an existing record whose result exists is kept; one whose result is gone is replaced', async () => {
      const [a, b] = [await s.makeResult(), await s.makeResult()];
      await s.store.save({ key: 'sha256:k', output: 0, resultId: a, recordType: 'regular', description: 'x' });
      expect((await s.store.save({ key: 'sha256:k', output: 0, resultId: b, recordType: 'regular', description: 'x' })).resultId).toBe(a);
      await s.dropResult(a);
      expect((await s.store.save({ key: 'sha256:k', output: 0, resultId: b, recordType: 'regular', description: 'x' })).resultId).toBe(b);
      expect((await s.store.lookup('sha256:k', 0))?.resultId).toBe(b);
    });

    test('replace overwrites a record whose result still exists (--no-cache)', async () => {
      const [a, b] = [await s.makeResult(), await s.makeResult()];
      await s.store.save({ key: 'sha256:r', output: 0, resultId: a, recordType: 'regular', description: 'x' });
      expect((await s.store.save({ key: 'sha256:r', output: 0, resultId: b, recordType: 'regular', description: 'x', replace: true })).resultId).toBe(b);
      expect((await s.store.lookup('sha256:r', 0))?.resultId).toBe(b);
    });

    test('invalidate removes exactly that record', async () => {
      const [a, b] = [await s.makeResult(), await s.makeResult()];
      await s.store.save({ key: 'sha256:i', output: 0, resultId: a, recordType: 'regular', description: 'x' });
      await s.store.save({ key: 'sha256:i', output: 1, resultId: b, recordType: 'regular', description: 'x' });
      await s.store.invalidate('sha256:i', 0);
      expect(await s.store.lookup('sha256:i', 0)).toBeUndefined();
      expect((await s.store.lookup('sha256:i', 1))?.resultId).toBe(b);
      await s.store.invalidate('sha256:none', 0);
    });

    test('records without a result (resultId "") and every record type round-trip', async () => {
      const types = ['regular', 'source.local', 'source.image', 'source.http', 'source.git', 'exec.cachemount', 'internal', 'frontend'] as const;
      for (const [i, t] of types.entries()) await s.store.save({ key: `sha256:t${i}`, output: 0, resultId: '', recordType: t, description: t });
      for (const [i, t] of types.entries()) expect(await s.store.lookup(`sha256:t${i}`, 0)).toMatchObject({ resultId: '', recordType: t, description: t });
    });

    test('concurrent saves of one key agree on a single record', async () => {
      const ids = await Promise.all([1, 2, 3, 4, 5, 6].map(() => s.makeResult()));
      const saved = await Promise.all(ids.map((id) => s.store.save({ key: 'sha256:c', output: 0, resultId: id, recordType: 'regular', description: 'x' })));
      const winner = (await s.store.lookup('sha256:c', 0))?.resultId;
      expect(winner).toBeDefined();
      expect(new Set(saved.map((r) => r.resultId))).toEqual(new Set([winner]));
    });

    test('lease (where offered): exclusive per key, the waiter is told once and knows it waited', async () => {
      const lease = s.store.lease?.bind(s.store);
      if (lease === undefined) {
        expect(name).toMatch(/^MemoryCacheStore/); // only stores over a data root coordinate processes
        return;
      }
      const ac = new AbortController();
      const first = await lease('sha256:L', { signal: ac.signal });
      expect(first.waited).toBe(false);
      const waits: string[] = [];
      let got = false;
      const second = lease('sha256:L', { signal: ac.signal, onWait: (h) => waits.push(h) }).then((l) => ((got = true), l));
      const other = await lease('sha256:other', { signal: ac.signal });
      expect(other.waited).toBe(false);
      await other.release();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      expect(got).toBe(false);
      await first.release();
      const l2 = await second;
      expect(l2.waited).toBe(true);
      expect(waits).toEqual(['another build in this process']);
      await l2.release();
      await l2.release();
      // An aborted waiter stops waiting.
      const held = await lease('sha256:L', { signal: ac.signal });
      const abort = new AbortController();
      const waiting = lease('sha256:L', { signal: abort.signal });
      abort.abort(new Error('stop'));
      await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
      await held.release();
    });
  });
}

describe('the conformance subjects', () => {
  test('every CacheRecordStore implementation in src is covered', () => {
    const found = execFileSync('grep', ['-rhoE', 'class [A-Za-z]+ implements CacheRecordStore', join(repoRoot, 'src')], { encoding: 'utf8' })
      .split('\n').filter(Boolean).map((l) => l.split(' ')[1]).sort();
    expect(found).toEqual([...new Set(subjects.map(([n]) => n.split(' ')[0]))].sort());
  });
});
