/**
 * EnvList against a plain model (a Map: insertion order, a replaced key keeping its place): random
 * ENV/ARG-like sequences, branches from older versions, and strings() asked at random points, so
 * that strings derived from an earlier version's (one key added or replaced) are checked as well as
 * strings built from the log.
 */
import { describe, expect, test } from '@jest/globals';
import { EnvList } from '../../src/llb/env-list.js';

/** A small deterministic PRNG (mulberry32): the same cases on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const modelStrings = (m: ReadonlyMap<string, string>): string[] => [...m].map(([k, v]) => `${k}=${v}`);

describe('EnvList', () => {
  test('strings() and entries() match the model through random sets, branches and reads', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const rand = rng(seed);
      const versions: Array<{ env: EnvList; model: Map<string, string> }> = [{ env: EnvList.empty, model: new Map() }];
      for (let step = 0; step < 150; step++) {
        // Mostly the newest version (a Dockerfile going step by step), sometimes an older one (a branch).
        const from = rand() < 0.85 ? versions[versions.length - 1] : versions[Math.floor(rand() * versions.length)];
        if (!from) throw new Error('no version');
        const key = `K${Math.floor(rand() * 12)}`;
        const value = rand() < 0.1 ? (from.model.get(key) ?? 'v') : `v${Math.floor(rand() * 5)}`;
        const env = from.env.set(key, value);
        const model = new Map(from.model).set(key, value);
        versions.push({ env, model });
        // Ask for the strings of some versions only, so derivations skip versions as they do in builds.
        if (rand() < 0.5) {
          const v = versions[Math.floor(rand() * versions.length)];
          if (v) expect(v.env.strings()).toEqual(modelStrings(v.model));
        }
      }
      for (const v of versions) {
        expect(v.env.strings()).toEqual(modelStrings(v.model));
        expect(v.env.entries()).toEqual([...v.model]);
        expect(v.env.size).toBe(v.model.size);
      }
    }
  });

  test('a replaced key keeps its place; an unchanged value gives the same list', () => {
    const a = EnvList.empty.set('PATH', '/bin').set('A', '1').set('B', '2');
    expect(a.strings()).toEqual(['PATH=/bin', 'A=1', 'B=2']);
    const b = a.set('A', '3');
    expect(b.strings()).toEqual(['PATH=/bin', 'A=3', 'B=2']);
    expect(b.set('A', '3')).toBe(b);
    const c = b.set('C', '4');
    expect(c.strings()).toEqual(['PATH=/bin', 'A=3', 'B=2', 'C=4']);
    // The earlier versions are unchanged.
    expect(a.strings()).toEqual(['PATH=/bin', 'A=1', 'B=2']);
    expect(b.strings()).toEqual(['PATH=/bin', 'A=3', 'B=2']);
  });
});
