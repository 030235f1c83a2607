import { describe, expect, test } from '@jest/globals';
import { encodeDefinition } from '../../src/llb/marshal.js';
import { tsbuild } from '../../src/llb/gen/llb.js';
import { FileActions, State } from '../../src/llb/index.js';

describe('the hand-assembled Definition envelope', () => {
  test('equals protobufjs encoding, for small and large parts', () => {
    const ops = [new Uint8Array(0), new Uint8Array(5).fill(1), new Uint8Array(200).fill(2), new Uint8Array(70_000).fill(3)];
    const md = [{ digest: 'sha256:' + 'a'.repeat(64), metadata: { description: 'x'.repeat(300), step: 2, locations: [{ startLine: 3, endLine: 4 }] } }];
    const src = [{ filename: 'Dockerfile', data: new TextEncoder().encode('FROM a\n'.repeat(5000)) }];
    const want = tsbuild.llb.Definition.encode({ def: ops, metadata: md, sources: src }).finish();
    const got = encodeDefinition(
      ops,
      md.map((m) => tsbuild.llb.OpMetadataEntry.encode(m).finish()),
      src.map((s) => tsbuild.llb.Source.encode(s).finish()),
    );
    expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
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
