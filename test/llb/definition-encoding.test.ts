import { describe, expect, test } from '@jest/globals';
import { tsbuild } from '../../src/llb/gen/llb.js';
import { FileActions, State } from '../../src/llb/index.js';

describe('the Definition envelope marshal writes', () => {
  test('equals protobufjs encoding, for small and large parts (1-, 2- and 3-byte lengths)', () => {
    const big = State.image('alpine').file(FileActions.mkfile('/big', 0o644, new Uint8Array(70_000).fill(3)), { description: 'x'.repeat(300), step: 2, locations: [{ sourceIndex: 0, startLine: 3, endLine: 4, startColumn: 0 }] });
    const small = big.file(FileActions.rm('/big'), { description: 'rm' });
    const sources = [{ filename: 'Dockerfile', data: new TextEncoder().encode('FROM a\n'.repeat(5000)) }, { filename: 'f', data: new Uint8Array(0) }];
    const def = small.marshal({ sources });
    const decoded = tsbuild.llb.Definition.decode(def.bytes);
    expect(decoded.def.map((b) => b.length > 16_383)).toEqual([false, true, false, false]);
    expect(decoded.metadata).toHaveLength(3);
    expect(decoded.sources.map((s) => [s.filename, s.data?.length])).toEqual([['Dockerfile', 35_000], ['f', 0]]);
    const want = tsbuild.llb.Definition.encode({ def: decoded.def, metadata: decoded.metadata, sources: decoded.sources }).finish();
    expect(Buffer.from(def.bytes).equals(Buffer.from(want))).toBe(true);
  });

  test('a marshalled graph decodes back to the same ops', () => {
    const st = State.image('alpine').file(FileActions.mkfile('/a', 0o644, 'x'.repeat(1000)), { description: 'd' });
    const def = st.marshal({ sources: [{ filename: 'f', data: new Uint8Array([1, 2, 3]) }] });
    const decoded = tsbuild.llb.Definition.decode(def.bytes);
    expect(decoded.def).toHaveLength(3);
    expect(decoded.metadata).toHaveLength(2);
    expect(decoded.sources[0]?.filename).toBe('f');
    expect(Buffer.from(tsbuild.llb.Definition.encode(decoded).finish()).equals(Buffer.from(def.bytes))).toBe(true);
  });
});

describe('strings are bytes, as in BuildKit', () => {
  // A Dockerfile byte that is not UTF-8 (0xFF) decodes to U+DCFF; the definition carries the byte.
  const escaped = `echo caf\u00e9 \udcff\udce9`;
  const long = `${escaped} ${'x'.repeat(200)}`;

  test.each([
    ['short (protobufjs JS loop)', escaped],
    ['long (Buffer path)', long],
  ])('a %s string with escaped bytes is written as those bytes and reads back the same', (_what, s) => {
    const st = State.image('alpine').run({ args: ['/bin/sh', '-c', s] }).root();
    const def = st.marshal();
    const raw = Buffer.from(def.bytes);
    expect(raw.includes(Buffer.from([0x20, 0xff, 0xe9]))).toBe(true);
    expect(raw.includes(Buffer.from('\ufffd'))).toBe(false);
    const decoded = tsbuild.llb.Definition.decode(def.bytes);
    const exec = decoded.def.map((b) => tsbuild.llb.Op.decode(b)).find((op) => op.exec)?.exec;
    expect(exec?.meta?.args).toEqual(['/bin/sh', '-c', s]);
    // protobufjs, patched the same way, writes the same bytes again.
    expect(Buffer.from(tsbuild.llb.Definition.encode(decoded).finish()).equals(raw)).toBe(true);
    expect(def.loaded.vertices.size).toBe(2);
  });

  test('well-formed strings keep their UTF-8 bytes (digests of valid Dockerfiles do not move)', () => {
    const s = 'echo caf\u00e9 \u{1f600}';
    const bytes = Buffer.from(State.image('alpine').run({ args: ['/bin/sh', '-c', s] }).root().marshal().bytes);
    expect(bytes.includes(Buffer.from(s, 'utf8'))).toBe(true);
  });
});
