/**
 * The hand-written LLB encoder (src/llb/proto-wire-writer.ts, proto-writer.ts, op-encoding.ts,
 * exec-op-encoding.ts, marshal.ts) must write exactly the bytes protobufjs' generated code writes,
 * or every digest changes. Checked four ways: writer primitives against protobufjs' Writer; whole
 * definitions of builder graphs against the protobufjs-based marshaller this encoder replaced
 * (re-implemented below as the reference); every Dockerfile the repository and the anchors hold,
 * converted with the per-op cross-check turned on; and random ops generated from proto/llb.proto
 * itself, so a field added to the schema but not to the encoder fails here.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import $protobuf from '../../src/llb/pb-runtime.js';
import { tsbuild } from '../../src/llb/gen/llb.js';
import { canonicalOp, encodeOp } from '../../src/llb/canonical.js';
import { sha256Digest } from '../../src/llb/digest.js';
import { FileActions, State } from '../../src/llb/index.js';
import { VERIFY_ENCODING_ENV, checkSameEncoding } from '../../src/llb/op-node.js';
import { writeMetadataEntry } from '../../src/llb/op-encoding.js';
import type { OpNode, Output } from '../../src/llb/op-node.js';
import { ProtoWriter } from '../../src/llb/proto-writer.js';
import type { DefinitionSource, OpConstraints } from '../../src/llb/types.js';
import { convertDockerfile } from '../../src/frontend/dockerfile/convert/convert.js';
import { parseDockerfile } from '../../src/frontend/dockerfile/parse.js';
import { generateDockerfile } from '../../bench/parse/generate.js';
import { anchorsDir, repoRoot } from '../helpers/paths.js';
import { describeIf } from '../helpers/skip.js';
import { mulberry32 as rng } from '../helpers/prng.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Strings around protobufjs' length thresholds (40 and 128 UTF-16 units) in every UTF-8 class. */
function edgeStrings(): string[] {
  const units = ['a', 'é', '€', '😀', '\udc80', '\ud800', '\u0000', '\u007f', '\u0080', '\u07ff', '\u0800', '\uffff'];
  const out = ['', 'x', 'sha256:' + 'a'.repeat(64)];
  for (const n of [1, 2, 38, 39, 40, 41, 63, 64, 126, 127, 128, 129, 300, 20_000]) {
    for (const u of units) {
      out.push('b'.repeat(Math.max(0, n - u.length)) + u); // ends with the unit
      out.push(u + 'c'.repeat(Math.max(0, n - u.length))); // starts with it
    }
  }
  return out;
}

describe('ProtoWriter primitives equal protobufjs Writer', () => {
  type PbWriter = ReturnType<typeof $protobuf.Writer.create>;
  const pb = (): PbWriter => $protobuf.Writer.create();
  const same = (ours: (w: ProtoWriter) => void, theirs: (w: PbWriter) => void): void => {
    const w = new ProtoWriter(16);
    ours(w);
    expect(hex(w.finish())).toBe(hex(((): Uint8Array => { const t = pb(); theirs(t); return t.finish(); })()));
  };

  test('varints: uint32, int32 (negative = 10 bytes), int64 from numbers, bool', () => {
    const ints = [0, 1, 127, 128, 255, 16383, 16384, 2 ** 21, 2 ** 28, 2 ** 31 - 1, -1, -2, -128, -(2 ** 31), 2 ** 31, 2 ** 32 - 1, 1.5, -1.5];
    for (const v of ints) {
      same((w) => w.uint32(v), (t) => t.uint32(v));
      same((w) => w.int32(v), (t) => t.int32(v));
    }
    const longs = [0, 1, -1, 2 ** 32, 2 ** 32 + 1, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53 - 1), 1_700_000_000, -1_700_000_000, 0.5, 2 ** 63, -(2 ** 63)];
    for (const v of longs) same((w) => w.int64(v), (t) => t.int64(v));
    for (const v of [true, false]) same((w) => w.bool(v), (t) => t.bool(v));
    for (const [f, wt] of [[1, 0], [15, 2], [16, 2], [2047, 0], [2048, 2], [536870911, 2]] as const) same((w) => w.tag(f, wt), (t) => t.uint32(((f << 3) | wt) >>> 0));
  });

  test('strings of every length class and UTF-16 content, lone surrogates included', () => {
    for (const s of edgeStrings()) same((w) => w.string(s), (t) => t.string(s));
  });

  test('bytes, raw, and length-delimited parts that need 1, 2 and 3 length bytes', () => {
    for (const n of [0, 1, 127, 128, 16383, 16384, 70_000]) {
      const b = new Uint8Array(n).map((_, i) => i * 7);
      same((w) => w.bytes(b), (t) => t.bytes(b));
      same((w) => { w.tag(3, 2); const at = w.fork(); w.raw(b); w.ldelim(at); }, (t) => { t.uint32(26).fork().raw(b).ldelim(); });
    }
    same((w) => w.bytes('aGVsbG8='), (t) => t.bytes('aGVsbG8='));
  });

  test('fork2/ldelim2 write what fork/ldelim do, for parts of 1, 2 and 3 length bytes', () => {
    for (const n of [0, 1, 127, 128, 200, 16383, 16384, 70_000]) {
      const b = new Uint8Array(n).map((_, i) => i * 11);
      same((w) => { w.uint32(5); w.tag(1, 2); const at = w.fork2(); w.raw(b); w.ldelim2(at); w.uint32(6); }, (t) => { t.uint32(5).uint32(10).fork().raw(b).ldelim().uint32(6); });
    }
  });

  test('sharedStringsField: remembered lists (the last one and older ones, other fields) write what stringsField does', () => {
    const a = ['A=1', 'B=2', 'PATH=/usr/bin:/bin'];
    const b = ['A=1', 'B=2', 'C=3', 'LONG=' + 'x'.repeat(200)];
    const short = ['X=1'];
    // Lists of ~10 KB: memos spread over several memo slabs (16 KB each), one larger than a slab.
    const big = ['A=' + 'y'.repeat(10_000), 'B=1', 'C=2'];
    const big2 = ['A=' + 'z'.repeat(10_000), 'B=1', 'C=2'];
    const huge = ['H=' + 'h'.repeat(40_000), 'B=1', 'C=2'];
    const writes: [number, readonly string[]][] = [[2, a], [2, a], [2, b], [2, a], [3, a], [3, a], [2, a], [2, short], [2, b], [2, b],
      [2, big], [2, big2], [2, huge], [2, big], [2, a], [2, big2], [2, huge], [2, huge]];
    same((w) => { for (const [f, v] of writes) w.sharedStringsField(f, v); }, (t) => { for (const [f, v] of writes) for (const x of v) t.uint32(((f << 3) | 2) >>> 0).string(x); });
  });

  test('rawRange copies exactly its range, short (byte loop) and long, from a view at an offset', () => {
    const all = new Uint8Array(300).map((_, i) => i * 13);
    const src = all.subarray(7);
    for (const [from, to] of [[0, 0], [0, 1], [5, 69], [5, 70], [3, 200], [0, src.length]] as const) {
      same((w) => { w.uint32(9); w.rawRange(src, from, to); }, (t) => { t.uint32(9).raw(src.slice(from, to)); });
    }
  });
});

// ---- the reference: marshalling as it was done with protobufjs before the hand-written encoder --

function referenceMarshal(root: Output | undefined, sources: readonly DefinitionSource[] = []): Uint8Array {
  const digests = new Map<OpNode, string>();
  const def: Uint8Array[] = [];
  const metadata = new Map<string, tsbuild.llb.OpMetadata.$Properties>();
  const visit = (n: OpNode): void => {
    if (digests.has(n)) return;
    for (const i of n.inputs) visit(i.node);
    const op: tsbuild.llb.Op.$Properties = { ...n.body(), inputs: n.inputs.map((i) => ({ digest: digests.get(i.node) as string, index: i.index })) };
    if (n.platform) op.platform = { os: n.platform.os, architecture: n.platform.architecture, variant: n.platform.variant ?? '' };
    const attrs = op.source?.attrs;
    if (op.source && attrs && attrs.length > 1) op.source = { ...op.source, attrs: [...attrs].sort((a, b) => ((a.key ?? '') < (b.key ?? '') ? -1 : 1)) };
    const bytes = tsbuild.llb.Op.encode(op).finish();
    const digest = sha256Digest(bytes);
    digests.set(n, digest);
    if (metadata.has(digest)) return;
    def.push(bytes);
    metadata.set(digest, metadataOf(n.constraints));
  };
  if (root) {
    visit(root.node);
    def.push(tsbuild.llb.Op.encode({ inputs: [{ digest: digests.get(root.node) as string, index: root.index }] }).finish());
  }
  const entries = [...metadata.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([digest, m]) => ({ digest, metadata: m }));
  return tsbuild.llb.Definition.encode({ def, metadata: entries, sources: sources.map((s) => ({ filename: s.filename, data: s.data })) }).finish();
}

function metadataOf(c: OpConstraints): tsbuild.llb.OpMetadata.$Properties {
  return {
    ignoreCache: c.ignoreCache ?? false,
    description: c.description ?? '',
    stage: c.stage ?? '',
    step: c.step ?? 0,
    steps: c.steps ?? 0,
    locations: (c.locations ?? []).map((l) => ({ sourceIndex: l.sourceIndex, startLine: l.startLine, endLine: l.endLine, startColumn: l.startColumn })),
  };
}

/** A graph that uses every builder feature (each op kind, option, mount type, owner form). */
function everyBuilderShape(): State[] {
  const odd = 'ünï \u20ac \ud83d\ude00 \udc80\udcff lone';
  const meta = (description: string, step = 1): OpConstraints => ({
    description, stage: 'st', step, steps: 9, ignoreCache: step % 2 === 0,
    locations: [{ sourceIndex: 0, startLine: step, endLine: step + 2, startColumn: 3 }, { sourceIndex: 1, startLine: 0, endLine: 0, startColumn: 0 }],
  });
  const arm = State.image('arm32v7/alpine:3.19', { platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, resolveMode: 'pull', constraints: meta('FROM arm') });
  const ctx = State.local('context', () => ({ followPaths: ['/b', '/a', odd], excludePatterns: ['*.tmp', '!keep.tmp'], includePatterns: ['src/**'], sharedKeyHint: 'ctx' }), meta('[internal] load build context'));
  const http = State.http('https://example.com/f.tgz?x=1', { checksum: 'sha256:' + 'c'.repeat(64), filename: 'f.tgz', perm: 0o755, uid: 1000, gid: 0 });
  const git = State.git('git@github.com:moby/buildkit.git', { ref: 'v0.13.0', subdir: 'docs', keepGitDir: true, checksum: 'ab'.repeat(20) });
  const base = State.image('alpine').platform({ os: 'linux', architecture: 'amd64' })
    .addEnv('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').addEnv('LONG', 'v'.repeat(200)).addEnv('ODD', odd)
    .dir('/src').user('app:app').hostname('h').network('none').security('insecure');
  const many = Array.from({ length: 40 }, (_, i) => i).reduce((s, i) => s.addEnv(`K${i}`, `value-${i}`), base);
  const run = many.run({
    args: ['/bin/sh', '-c', `echo ${odd} && make -j${'4'.repeat(60)}`],
    mounts: [
      { type: 'bind', target: 'out', source: ctx, selector: '/sub', readonly: true, output: true },
      { type: 'bind', target: '/scratch', source: undefined, output: true },
      { type: 'cache', target: '/root/.cache', id: 'go', sharing: 'locked', source: git, selector: '/x', mode: 0o755, uid: 0, gid: 1000, readonly: false },
      { type: 'cache', target: '/c2', id: 'c2' },
      { type: 'tmpfs', target: '/tmp', size: 2 ** 40 },
      { type: 'tmpfs', target: '/tmp0' },
      { type: 'secret', target: '/run/secrets/s', id: 's', uid: 1, gid: 2, mode: 0o440, optional: true },
      { type: 'ssh', target: '/run/ssh', id: 'default' },
    ],
    secretEnv: [{ id: 'tok', name: 'TOKEN', optional: true }, { id: 'k', name: 'K' }],
    proxyEnv: { httpProxy: 'http://p:3128', noProxy: 'localhost' },
    extraHosts: [{ host: 'db', ip: '10.0.0.2' }],
    network: 'host',
    security: 'sandbox',
    constraints: meta(`RUN ${odd}`, 2),
  });
  const files = run.root().file(
    FileActions.mkdir('/a/b', 0o755, { makeParents: true, owner: 'app:app', timestamp: 1_700_000_000 })
      .mkfile('data.bin', 0o600, new Uint8Array(70_000).map((_, i) => i), { owner: '1000', timestamp: -1 })
      .mkfile('empty', 0o644, '', { owner: ':1000' })
      .rm('/tmp/*', { allowNotFound: true, allowWildcard: true })
      .symlink('../a', 'link', { owner: 'root:0', timestamp: 2 ** 40 })
      .copy(ctx, 'src/./pkg', '/dst/', {
        owner: 'user:1000', mode: 0o644, followSymlink: true, dirCopyContents: true, attemptUnpackDockerCompatibility: true, createDestPath: true,
        allowWildcard: true, allowEmptyWildcard: true, includePatterns: ['pkg/**', odd], excludePatterns: ['*.o'],
        alwaysReplaceExistingDestPaths: true, parents: true, unpack: false, requiredPaths: ['/src/pkg'], timestamp: 0,
      })
      .copy(http, 'f.tgz', '/opt/', { modeStr: 'u=rwX,go=rX', unpack: true })
      .copy(git, '/', '/git', { mode: -1 }),
    meta('COPY', 3),
  );
  const linked = State.merge([files, State.scratch().file(FileActions.copy(arm, '/etc', '/etc2'), meta('LINK', 4)), State.scratch(), arm], meta('merge', 5));
  // The same op reached through two nodes: one vertex, the first node's metadata.
  const twice = linked.run({ args: ['true'], constraints: meta('one', 6) }).root();
  const again = linked.run({ args: ['true'], constraints: meta('two', 7) }).root();
  const both = twice.run({ args: ['sh'], mounts: [{ type: 'bind', target: '/again', source: again }] }).root();
  return [arm, ctx, http, git, base, run.root(), files, linked, both, State.scratch(), State.scratch().file(FileActions.mkdir('/x', 0o700))];
}

/**
 * Runs `fn` with the cross-check on. Exec, file and merge bodies and all metadata are encoded when
 * their node is made (op-node.ts), and the reference marshaller reads them back decoded; the check
 * made at construction is what compares those bytes with protobufjs' encoding of the objects.
 */
async function withVerify<T>(fn: () => T | Promise<T>): Promise<T> {
  const saved = process.env[VERIFY_ENCODING_ENV];
  process.env[VERIFY_ENCODING_ENV] = '1';
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env[VERIFY_ENCODING_ENV];
    else process.env[VERIFY_ENCODING_ENV] = saved;
  }
}

describe('marshalled definitions equal the protobufjs-based marshaller', () => {
  test('every builder shape, with and without sources', async () => {
    const sources = [{ filename: 'Dockerfile', data: new TextEncoder().encode('FROM a\n'.repeat(3000)) }, { filename: 'empty', data: new Uint8Array(0) }];
    for (const st of await withVerify(everyBuilderShape)) {
      expect(hex(st.marshal().bytes)).toBe(hex(referenceMarshal(st.output)));
      expect(hex(st.marshal({ sources }).bytes)).toBe(hex(referenceMarshal(st.output, sources)));
    }
  });

  test('the generated 600-instruction Dockerfile: every op and the whole definition', async () => {
    const ast = parseDockerfile(generateDockerfile(600), { file: 'Dockerfile' });
    let target: State | undefined;
    const marshalAsync = State.prototype.marshalAsync;
    // Keep the State convert marshals, to marshal it again with the reference (no behaviour changed).
    const spy = function (this: State, opts?: Parameters<State['marshalAsync']>[0]): ReturnType<State['marshalAsync']> {
      target = this;
      return marshalAsync.call(this, opts);
    };
    State.prototype.marshalAsync = spy;
    try {
      const r = await withVerify(() => convertDockerfile(ast, { platform: 'linux/amd64', buildArgs: new Map([['VERSION', '2']]) }));
      expect(target).toBeDefined();
      const sources = [{ filename: 'Dockerfile', data: new TextEncoder().encode(ast.lines.join('\n')) }];
      expect(Buffer.from(r.definition.bytes).equals(Buffer.from(referenceMarshal(target?.output, sources)))).toBe(true);
      expect(r.definition.loaded.vertices.size).toBe(409);
    } finally {
      State.prototype.marshalAsync = marshalAsync;
    }
  });
});

describe('every Dockerfile at hand converts with the per-op protobufjs cross-check on', () => {
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env[VERIFY_ENCODING_ENV];
    process.env[VERIFY_ENCODING_ENV] = '1';
  });
  afterAll(() => {
    if (saved === undefined) delete process.env[VERIFY_ENCODING_ENV];
    else process.env[VERIFY_ENCODING_ENV] = saved;
  });

  const convertAll = async (dir: string): Promise<number> => {
    let converted = 0;
    for (const name of readdirSync(dir).sort()) {
      const file = join(dir, name, 'Dockerfile');
      if (!existsSync(file)) continue;
      let ast;
      try {
        ast = parseDockerfile(readFileSync(file), { file: 'Dockerfile' });
      } catch {
        continue; // the parser's own failure cases
      }
      for (const platform of ['linux/amd64', 'linux/arm/v7']) {
        try {
          await convertDockerfile(ast, { platform, buildArgs: new Map([['HTTP_PROXY', 'http://proxy:3128']]), noCache: platform !== 'linux/amd64' });
          converted++;
        } catch (e) {
          // Conversion errors are user errors (coded); an encoding mismatch is an internal Error.
          expect(String((e as Error).message)).not.toMatch(/LLB encoding/);
          expect((e as { code?: unknown }).code).toBeDefined();
        }
      }
    }
    return converted;
  };

  test('the compat cases', async () => {
    const dir = join(repoRoot, 'test', 'compat', 'cases');
    const cases = readdirSync(dir).filter((n) => existsSync(join(dir, n, 'Dockerfile'))).length;
    expect(cases).toBeGreaterThanOrEqual(62);
    // Every case converts, for both platforms.
    expect(await convertAll(dir)).toBe(cases * 2);
  });

  test('the generated bench Dockerfile (every instruction shape it makes)', async () => {
    const r = await convertDockerfile(parseDockerfile(generateDockerfile(1200), { file: 'Dockerfile' }), { platform: 'linux/amd64' });
    expect(r.definition.loaded.vertices.size).toBe(766);
  });

  test('the cross-check reports a difference', () => {
    expect(() => checkSameEncoding('op', new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toThrow(/LLB encoding of op differs from protobufjs: 0102 != 0103/);
    expect(() => checkSameEncoding('op', new Uint8Array([1, 2]), new Uint8Array([1, 2]))).not.toThrow();
  });
});

const parserTestfiles = join(anchorsDir, 'buildkit-parser-testfiles', 'testfiles');

describeIf(existsSync(parserTestfiles), `no BuildKit parser test files at ${parserTestfiles}`, 'BuildKit parser test files convert with the cross-check on', () => {
  test('every test file that converts', async () => {
    const saved = process.env[VERIFY_ENCODING_ENV];
    process.env[VERIFY_ENCODING_ENV] = '1';
    try {
      let converted = 0;
      const dir = parserTestfiles;
      for (const name of readdirSync(dir).sort()) {
        const file = join(dir, name, 'Dockerfile');
        if (!existsSync(file)) continue;
        try {
          await convertDockerfile(parseDockerfile(readFileSync(file), { file: 'Dockerfile' }), { platform: 'linux/amd64' });
          converted++;
        } catch (e) {
          expect((e as { code?: unknown }).code).toBeDefined();
        }
      }
      expect(converted).toBe(23);
    } finally {
      if (saved === undefined) delete process.env[VERIFY_ENCODING_ENV];
      else process.env[VERIFY_ENCODING_ENV] = saved;
    }
  });
});

// ---- random ops generated from the schema -------------------------------------------------------

describe('random ops built from proto/llb.proto encode like protobufjs', () => {
  const root = protobuf.parse(readFileSync(join(repoRoot, 'proto', 'llb.proto'), 'utf8')).root;
  root.resolveAll();
  const OpType = root.lookupType('tsbuild.llb.Op');
  const strings = edgeStrings().filter((s) => s.length < 2000);
  /** protobufjs' decoder rejects what its encoder writes for lone surrogates (invalid UTF-8). */
  const wellFormed = strings.filter((s) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s));
  let pool = strings;
  /** Every `Message.field` that got a non-default value at least once. */
  const covered = new Set<string>();

  function scalar(type: string, r: () => number): unknown {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
    switch (type) {
      case 'string': return pick(pool);
      case 'bool': return r() < 0.5;
      case 'int32': return pick([0, 1, -1, 127, 128, 2 ** 31 - 1, -(2 ** 31), Math.floor(r() * 2 ** 32) - 2 ** 31]);
      case 'uint32': return pick([0, 1, 0o755, 2 ** 32 - 1, Math.floor(r() * 2 ** 32)]);
      case 'int64': return pick([0, -1, 1, 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1), 1_700_000_000, Math.floor(r() * 2 ** 40) - 2 ** 39]);
      case 'bytes': return new Uint8Array(pick([0, 1, 127, 128, 300])).map(() => Math.floor(r() * 256));
      default: throw new Error(`random op: no generator for scalar type ${type}; extend this test`);
    }
  }

  function message(type: protobuf.Type, r: () => number, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const oneofChoice = new Map<string, string>();
    for (const o of type.oneofsArray) oneofChoice.set(o.name, o.fieldsArray[Math.floor(r() * o.fieldsArray.length)]?.name ?? '');
    for (const f of type.fieldsArray) {
      if (f.partOf && oneofChoice.get(f.partOf.name) !== f.name) continue;
      const roll = r();
      if (roll < 0.15) continue; // absent
      if (roll < 0.2) { out[f.name] = null; continue; }
      const one = (): unknown => {
        if (f.resolvedType instanceof protobuf.Type) return depth > 6 ? {} : message(f.resolvedType, r, depth + 1);
        if (f.resolvedType instanceof protobuf.Enum) {
          const values = Object.values(f.resolvedType.values);
          return values[Math.floor(r() * values.length)];
        }
        return scalar(f.type, r);
      };
      const value = f.repeated ? Array.from({ length: Math.floor(r() * 4) }, one) : one();
      if (type.name === 'SourceOp' && f.name === 'attrs' && Array.isArray(value)) {
        // Attr keys must be unique (canonicalOp rejects duplicates); keep the first of each.
        const seen = new Set<unknown>();
        out[f.name] = value.filter((a) => { const k = (a as { key?: unknown }).key ?? ''; if (seen.has(k)) return false; seen.add(k); return true; });
      } else {
        out[f.name] = value;
      }
      const isDefault = value === 0 || value === '' || value === false || (Array.isArray(value) && value.length === 0) || (value instanceof Uint8Array && value.length === 0);
      if (!isDefault) covered.add(`${type.name}.${f.name}`);
    }
    return out;
  }

  test('3000 random ops, every field of every message reached', () => {
    const r = rng(20240611);
    for (let i = 0; i < 3000; i++) {
      const op = message(OpType, r, 0) as tsbuild.llb.Op.$Properties;
      const want = tsbuild.llb.Op.encode(canonicalOp(op)).finish();
      const got = encodeOp(op).bytes;
      if (hex(got) !== hex(want)) throw new Error(`op ${i} differs:\n${JSON.stringify(op)}\n${hex(got)}\n${hex(want)}`);
    }
    const all: string[] = [];
    const walk = (t: protobuf.Type, seen: Set<string>): void => {
      if (seen.has(t.name)) return;
      seen.add(t.name);
      for (const f of t.fieldsArray) {
        all.push(`${t.name}.${f.name}`);
        if (f.resolvedType instanceof protobuf.Type) walk(f.resolvedType, seen);
      }
    };
    walk(OpType, new Set());
    expect(all.filter((f) => !covered.has(f))).toEqual([]);
    expect(all.length).toBe(124);
  });

  test('decoded ops (prototype defaults, unknown fields kept) re-encode like protobufjs', () => {
    const r = rng(7);
    pool = wellFormed;
    for (let i = 0; i < 300; i++) {
      const op = message(OpType, r, 0) as tsbuild.llb.Op.$Properties;
      const bytes = tsbuild.llb.Op.encode(canonicalOp(op)).finish();
      // An unknown field (number 99, varint 5) appended: protobufjs keeps it in $unknowns.
      const withUnknown = new Uint8Array([...bytes, 0x98, 0x06, 0x05]);
      const decoded = tsbuild.llb.Op.decode(withUnknown);
      expect(hex(encodeOp(decoded).bytes)).toBe(hex(tsbuild.llb.Op.encode(decoded).finish()));
    }
    pool = strings;
  });

  test('random metadata entries', () => {
    const r = rng(99);
    const MetaType = root.lookupType('tsbuild.llb.OpMetadata');
    for (let i = 0; i < 1000; i++) {
      const m = message(MetaType, r, 0) as tsbuild.llb.OpMetadata.$Properties;
      const c: OpConstraints = {
        ...(m.ignoreCache != null ? { ignoreCache: m.ignoreCache } : {}),
        ...(m.description != null ? { description: m.description } : {}),
        ...(m.stage != null ? { stage: m.stage } : {}),
        ...(m.step != null ? { step: m.step } : {}),
        ...(m.steps != null ? { steps: m.steps } : {}),
        locations: (m.locations ?? []).map((l) => ({ sourceIndex: l.sourceIndex ?? 0, startLine: l.startLine ?? 0, endLine: l.endLine ?? 0, startColumn: l.startColumn ?? 0 })),
      };
      const digest = scalar('string', r) as string;
      const w = new ProtoWriter();
      writeMetadataEntry(w, digest, c);
      expect(hex(w.finish())).toBe(hex(tsbuild.llb.OpMetadataEntry.encode({ digest, metadata: metadataOf(c) }).finish()));
    }
  });
});
