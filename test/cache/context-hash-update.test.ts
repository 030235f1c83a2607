/**
 * ContextHasher.checksumPathUpdate (a selector's checksum redone only where known paths changed,
 * for the daemon's synced context copy after a journal delta) against the full walk: each round
 * makes random edits of the kinds a journal delta carries — files written, created, removed,
 * chmod'ed, symlinks retargeted, directories chmod'ed; never a directory created or removed — and
 * checks, for wildcard and literal selectors, that the updated state (digest, and every entry it
 * reports to the build history, in order) is exactly the full checksumPathState's. Also that the
 * update is actually used where it can be (a wildcard without followed links or excludes), and
 * that it refuses what it cannot vouch for.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContextHasher } from '../../src/cache/context-hash.js';
import type { ChecksumPathOptions, ChecksumState } from '../../src/cache/types.js';
import { mulberry32 } from '../helpers/prng.js';

const signal = new AbortController().signal;

/** Selectors, their options, and whether an update must be possible (unless a match is a followed link). */
const SELECTORS: readonly { readonly sel: string; readonly opts: ChecksumPathOptions; readonly updatable: boolean }[] = [
  { sel: 'f*', opts: { allowEmptyWildcard: true }, updatable: true },
  { sel: 'd*', opts: { allowEmptyWildcard: true }, updatable: true },
  { sel: 'd1/*', opts: { allowEmptyWildcard: true }, updatable: true },
  { sel: '*/g?', opts: { allowEmptyWildcard: true }, updatable: true },
  { sel: '[fl]*', opts: { allowEmptyWildcard: true, followLinks: false }, updatable: true },
  { sel: 'l*', opts: { allowEmptyWildcard: true }, updatable: true },
  { sel: 'f*', opts: { allowEmptyWildcard: true, excludes: ['f1*'] }, updatable: false },
  { sel: 'keep', opts: {}, updatable: true },
  { sel: 'd2', opts: {}, updatable: true },
  { sel: 'd2/g1', opts: {}, updatable: true },
];

function entriesOf(s: ChecksumState): (string | number)[] {
  return s.kind === 'wildcard' ? s.groups.flatMap((g) => [...g.entries]) : [...s.entries];
}

describe('checksumPathUpdate', () => {
  let ctx: string;
  let hasher: ContextHasher;

  beforeEach(async () => {
    ctx = await mkdtemp(join(tmpdir(), 'tsbuild-ckupd-'));
    hasher = await ContextHasher.create();
  });
  afterEach(async () => {
    await rm(ctx, { recursive: true, force: true });
  });

  /** The full state of every selector (undefined: it matched nothing that exists). */
  async function fullStates(): Promise<(ChecksumState | undefined)[]> {
    return Promise.all(SELECTORS.map(async ({ sel, opts }) => hasher.checksumPathState(ctx, sel, { ...opts, signal }).catch((e: unknown) => {
      if ((e as { code?: string }).code === 'CONTEXT_PATH_NOT_FOUND') return undefined;
      throw e;
    })));
  }

  test.each([1, 2, 3])('equals the full walk over random edits (seed %i)', async (seed) => {
    const rnd = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const dirs = ['d1', 'd2', 'd3', 'd1/sub', 'x'];
    for (const d of dirs) mkdirSync(join(ctx, d), { recursive: true });
    writeFileSync(join(ctx, 'keep'), 'keep');
    for (let i = 0; i < 40; i++) writeFileSync(join(ctx, `f${i}`), `file ${i}`);
    for (let i = 0; i < 6; i++) writeFileSync(join(ctx, pick(dirs), `g${i}`), `g ${i}`);
    symlinkSync('f1', join(ctx, 'l1'));
    symlinkSync('d1', join(ctx, 'l2'));
    let states = await fullStates();
    let updates = 0;
    for (let round = 0; round < 25; round++) {
      const changed = new Set<string>();
      const edits = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < edits; k++) {
        const dir = pick(['', '', ...dirs]);
        const name = pick(['f', 'g', 'l', 'keep', 'f1']) + (rnd() < 0.8 ? String(Math.floor(rnd() * 45)) : '');
        const rel = dir === '' ? name : `${dir}/${name}`;
        const abs = join(ctx, rel);
        if (dirs.includes(rel) || rel === 'keep' && rnd() < 0.5) continue;
        const what = rnd();
        const present = readdirSync(join(ctx, dir)).includes(name);
        if (what < 0.1 && dir !== '' && dir !== 'x') {
          chmodSync(join(ctx, dir), rnd() < 0.5 ? 0o750 : 0o755);
          changed.add(dir);
          continue;
        }
        if (present && what < 0.35) {
          rmSync(abs);
        } else if (what < 0.5) {
          rmSync(abs, { force: true });
          symlinkSync(pick(['f1', 'd1', 'keep', 'nowhere', `${name}x`]), abs);
        } else if (what < 0.65 && present && lstatSync(abs).isFile()) {
          chmodSync(abs, rnd() < 0.5 ? 0o600 : 0o644);
        } else {
          rmSync(abs, { force: true });
          writeFileSync(abs, `edit ${round} ${k} ${rnd()}`);
        }
        changed.add(rel);
      }
      const full = await fullStates();
      for (const [i, { sel, opts, updatable }] of SELECTORS.entries()) {
        const before = states[i];
        const now = full[i];
        if (before === undefined) continue;
        const updated = await hasher.checksumPathUpdate(ctx, sel, before, [...changed], { ...opts, signal }).catch((e: unknown) => {
          if ((e as { code?: string }).code === 'CONTEXT_PATH_NOT_FOUND') return 'none' as const;
          throw e;
        });
        // A wildcard refuses only with excludes or a followed link (which may point anywhere).
        const mustUpdate = updatable && before.kind === 'wildcard' && !before.groups.some((g) => g.followed);
        if (updated === undefined) {
          if (mustUpdate) throw new Error(`${sel}: update refused at round ${round}`);
          continue;
        }
        if (mustUpdate) updates++;
        if (updated === 'none') {
          expect({ sel, round, now }).toEqual({ sel, round, now: undefined });
          continue;
        }
        expect({ sel, round, digest: updated.digest, entries: entriesOf(updated) }).toEqual({ sel, round, digest: now?.digest, entries: now ? entriesOf(now) : undefined });
      }
      states = full;
    }
    expect(updates).toBeGreaterThan(50);
  }, 60_000);

  test('a wildcard update walks only the matches the changed paths touch', async () => {
    for (let i = 0; i < 50; i++) writeFileSync(join(ctx, `f${i}`), `file ${i}`);
    const before = await hasher.checksumPathState(ctx, 'f*', { signal });
    writeFileSync(join(ctx, 'f7'), 'changed');
    rmSync(join(ctx, 'f8'));
    writeFileSync(join(ctx, 'f77'), 'new');
    let reads = 0;
    const readFile: ChecksumPathOptions['readFile'] = async function* (abs) {
      reads++;
      yield readFileSync(abs);
    };
    const updated = await hasher.checksumPathUpdate(ctx, 'f*', before, ['f7', 'f8', 'f77'], { signal, readFile });
    expect(reads).toBe(2);
    const full = await hasher.checksumPathState(ctx, 'f*', { signal });
    expect(updated?.digest).toBe(full.digest);
    expect(updated?.digest).not.toBe(before.digest);
  });
});
