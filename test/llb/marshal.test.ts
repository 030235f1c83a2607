/**
 * Marshalling state kept outside Maps (src/llb/marshal.ts: a walk's digests in the nodes' own
 * fields, owned by one marshal at a time; strings-memo.ts: the last few env lists' encodings):
 * whatever the interleaving, every marshal writes the bytes a marshal alone writes.
 */
import { describe, expect, test } from '@jest/globals';
import { State } from '../../src/llb/index.js';
import { ProtoWriter } from '../../src/llb/proto-writer.js';
import { CancelledError } from '../../src/util/errors.js';

/** `n` RUN steps on `base`, each with its own command (and an env change every `envEvery`). */
function chain(base: State, tag: string, n: number, envEvery = 0): State {
  let s = base;
  for (let i = 0; i < n; i++) {
    if (envEvery > 0 && i % envEvery === 0) s = s.addEnv(`E${i % 7}`, `${tag}-${i}`);
    s = s.run({ args: ['/bin/sh', '-c', `step ${tag} ${i}`] }).root();
  }
  return s;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

describe('marshal', () => {
  // More ops than one turn of marshalOutputAsync (2,000), so that marshals started together
  // interleave at their turns; `a` and `b` share their first 3,000 steps.
  const shared = chain(State.image('busybox').addEnv('A', '1').addEnv('B', '2'), 'shared', 3000, 50);
  const a = chain(shared, 'a', 2500, 40);
  const b = chain(shared, 'b', 2500, 0);

  test('marshals of graphs that share nodes, interleaved, write what each writes alone', async () => {
    const aloneA = a.marshal().bytes;
    const aloneB = b.marshal().bytes;
    const aloneShared = shared.marshal().bytes;
    expect(same(aloneA, aloneB)).toBe(false);
    const [ra, rb, rs, ra2] = await Promise.all([a.marshalAsync(), b.marshalAsync(), shared.marshalAsync(), a.marshalAsync()]);
    expect(same(ra.bytes, aloneA)).toBe(true);
    expect(same(rb.bytes, aloneB)).toBe(true);
    expect(same(rs.bytes, aloneShared)).toBe(true);
    expect(same(ra2.bytes, aloneA)).toBe(true);
    // A synchronous marshal while an async one is between turns.
    const pending = b.marshalAsync();
    expect(same(a.marshal().bytes, aloneA)).toBe(true);
    expect(same((await pending).bytes, aloneB)).toBe(true);
    expect(ra.loaded.vertices.size).toBe(1 + 5500);
  });

  test('a marshal stopped half-way leaves nothing behind for the next', async () => {
    const alone = a.marshal().bytes;
    const ac = new AbortController();
    const stopped = a.marshalAsync({ signal: ac.signal });
    ac.abort();
    await expect(stopped).rejects.toBeInstanceOf(CancelledError);
    const [again, other] = await Promise.all([a.marshalAsync(), b.marshalAsync()]);
    expect(same(again.bytes, alone)).toBe(true);
    expect(same(other.bytes, b.marshal().bytes)).toBe(true);
  });
});

describe('sharedStringsField', () => {
  test('more lists than the memo keeps, asked for again in any order and under two fields, write what stringsField does', () => {
    const lists = Array.from({ length: 20 }, (_, i) => [`K${i}=${i}`, 'B=2', `C=${'c'.repeat(i * 50)}`]);
    const order = [...lists.keys(), 0, 19, 1, 12, 11, 0, 5, 5, 19, 18, 3];
    const writes: [number, readonly string[]][] = order.map((i) => [2, lists[i] as string[]]);
    writes.push([3, lists[19] as string[]], [2, lists[19] as string[]], [3, lists[0] as string[]], [3, lists[0] as string[]]);
    const w = new ProtoWriter(16);
    const ref = new ProtoWriter(16);
    for (const [field, list] of writes) {
      w.sharedStringsField(field, list);
      ref.stringsField(field, list);
    }
    expect(same(w.finish(), ref.finish())).toBe(true);
  });
});
