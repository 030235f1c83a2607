/**
 * ContextJournals on real directories and real inotify (src/control/context-journal.ts): when it
 * must refuse to vouch for a context — the daemon sees another directory than the client named, a
 * mount point inside the context, more directories than it may watch — and that it vouches only
 * for the listing a clean journal was settled at, drops the least recently used context beyond its
 * limit, and sees a change made just before it is asked.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contextRootId } from '../../src/client/context-root-id.js';
import { ContextJournals } from '../../src/control/context-journal.js';
import type { ContextJournalOptions, WatchedContext } from '../../src/control/context-journal.js';
import { describeIf, isRoot } from '../helpers/skip.js';

const signal = new AbortController().signal;
const WALK = { kind: 'walk' };
const CLEAN = { kind: 'clean' };

describe('ContextJournals', () => {
  let work: string;
  let journals: ContextJournals | undefined;
  beforeEach(async () => { work = await mkdtemp(join(tmpdir(), 'tsbuild-journal-unit-')); });
  afterEach(async () => {
    journals?.close();
    journals = undefined;
    await rm(work, { recursive: true, force: true });
  });

  function open(opts: Omit<ContextJournalOptions, 'dir'> = {}): ContextJournals {
    journals = new ContextJournals({ ...opts, dir: join(work, 'barrier') });
    return journals;
  }

  function context(name: string, dirs = 1): WatchedContext {
    const path = join(work, name);
    for (let i = 0; i < dirs; i++) mkdirSync(join(path, `d${i}`), { recursive: true });
    writeFileSync(join(path, 'f'), 'x');
    return { path, rootId: contextRootId(path) ?? '', ignore: undefined };
  }

  /** A journal started for `copy`, then settled at `digest` as a completed sync does. */
  async function settled(j: ContextJournals, copy: string, ctx: WatchedContext, digest: string): Promise<void> {
    expect(await j.begin(copy, ctx, '', signal)).toEqual(WALK);
    j.settle(copy, digest, undefined);
  }

  test('clean only for the settled listing, and not after a change made just before the question', async () => {
    const j = open();
    const ctx = context('a');
    await settled(j, 'copy-a', ctx, 'D1');
    expect(await j.begin('copy-a', ctx, 'D1', signal)).toEqual(CLEAN);
    // The copy was synced to something else meanwhile (another client of the same copy key).
    expect(await j.begin('copy-a', ctx, 'D2', signal)).toEqual(WALK);
    j.settle('copy-a', 'D2', undefined);
    expect(await j.begin('copy-a', ctx, 'D2', signal)).toEqual(CLEAN);
    writeFileSync(join(ctx.path, 'd0', 'g'), 'y');
    expect(await j.begin('copy-a', ctx, 'D2', signal)).toEqual(WALK);
  });

  test('a directory the daemon sees differently (another root id) is never journalled', async () => {
    const j = open();
    const ctx = context('b');
    const other = { ...ctx, rootId: `${ctx.rootId}0` };
    await settled(j, 'copy-b', other, 'D');
    expect(await j.begin('copy-b', other, 'D', signal)).toEqual(WALK);
    expect(await j.begin('copy-b', { ...ctx, path: join(work, 'missing') }, 'D', signal)).toEqual(WALK);
  });

  test('a context with more directories than the daemon may watch is not journalled (and not walked again)', async () => {
    const j = open({ maxWatches: 4 });
    const ctx = context('c', 8);
    await settled(j, 'copy-c', ctx, 'D');
    expect(await j.begin('copy-c', ctx, 'D', signal)).toEqual(WALK);
    // A small one still fits.
    const small = context('small');
    await settled(j, 'copy-small', small, 'S');
    expect(await j.begin('copy-small', small, 'S', signal)).toEqual(CLEAN);
  });

  test('beyond maxContexts the least recently used journal is dropped', async () => {
    const j = open({ maxContexts: 1 });
    const a = context('la');
    const b = context('lb');
    await settled(j, 'copy-la', a, 'A');
    await settled(j, 'copy-lb', b, 'B');
    expect(await j.begin('copy-lb', b, 'B', signal)).toEqual(CLEAN);
    expect(await j.begin('copy-la', a, 'A', signal)).toEqual(WALK);
  });
});

describeIf(isRoot, 'needs root (mounts a tmpfs)', 'ContextJournals and mount points', () => {
  test('a mount point inside the context: no journal', async () => {
    const work = await mkdtemp(join(tmpdir(), 'tsbuild-journal-mnt-'));
    const journals = new ContextJournals({ dir: join(work, 'barrier') });
    const path = join(work, 'ctx');
    mkdirSync(join(path, 'mnt'), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(path, 'mnt')]);
    try {
      const ctx = { path, rootId: contextRootId(path) ?? '', ignore: undefined };
      expect(await journals.begin('copy', ctx, '', new AbortController().signal)).toEqual(WALK);
      journals.settle('copy', 'D', undefined);
      expect(await journals.begin('copy', ctx, 'D', new AbortController().signal)).toEqual(WALK);
    } finally {
      journals.close();
      execFileSync('umount', [join(path, 'mnt')]);
      await rm(work, { recursive: true, force: true });
    }
  });
});
