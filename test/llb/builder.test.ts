import { describe, expect, test } from '@jest/globals';
import { FileActions, State, loadDefinition, opCacheDigest, tsbuild, listAttr, LocalAttr, sha256Digest } from '../../src/llb/index.js';
import type { LLBVertex, LoadedDefinition } from '../../src/llb/index.js';
import { OpNode } from '../../src/llb/op-node.js';

function only<K extends LLBVertex['op']['kind']>(def: LoadedDefinition, kind: K): LLBVertex[] {
  return [...def.vertices.values()].filter((v) => v.op.kind === kind);
}

function rootVertex(def: LoadedDefinition): LLBVertex {
  const r = def.root;
  if (!r) throw new Error('no root');
  const v = def.vertices.get(r.digest);
  if (!v) throw new Error('root missing');
  return v;
}

describe('LLB builder', () => {
  test('image → run → marshal → loadDefinition round trip', () => {
    const st = State.image('alpine').addEnv('A', '1').addEnv('B', '2').addEnv('A', '3').dir('/src').dir('sub').user('app');
    const def = st.run({ args: ['/bin/sh', '-c', 'make'], constraints: { description: '[1/2] RUN make', stage: '0', step: 2, steps: 2 } }).root().marshal();
    const loaded = loadDefinition(def.bytes);
    expect(loaded.vertices.size).toBe(2);
    const [img, exec] = [...loaded.vertices.values()];
    expect(img?.op.kind).toBe('source');
    if (img?.op.kind !== 'source' || exec?.op.kind !== 'exec') throw new Error('kinds');
    expect(img.op.source.identifier).toBe('docker-image://docker.io/library/alpine:latest');
    const meta = exec.op.exec.meta;
    expect(meta?.args).toEqual(['/bin/sh', '-c', 'make']);
    expect(meta?.env).toEqual(['A=3', 'B=2']); // replaced in place, order kept
    expect(meta?.cwd).toBe('/src/sub');
    expect(meta?.user).toBe('app');
    expect(exec.inputs).toEqual([{ digest: img.digest, index: 0 }]);
    expect(exec.op.exec.mounts).toHaveLength(1);
    expect(exec.op.exec.mounts[0]).toMatchObject({ dest: '/', input: 0, output: 0 });
    expect(exec.metadata).toMatchObject({ description: '[1/2] RUN make', stage: '0', step: 2, steps: 2, ignoreCache: false });
    expect(loaded.root).toEqual({ digest: exec.digest, index: 0 });
    // digests are sha256 of the stored bytes
    for (const v of loaded.vertices.values()) expect(sha256Digest(v.bytes)).toBe(v.digest);
  });

  test('same graph twice → same bytes; any change → different digest of that op and its dependents only', () => {
    const mk = (cmd: string, env: string) => State.image('busybox').addEnv('X', env)
      .run({ args: ['sh', '-c', 'true'] }).root()
      .run({ args: ['sh', '-c', cmd] }).root().marshal();
    const a = mk('echo hi', '1');
    const b = mk('echo hi', '1');
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    const c = mk('echo ho', '1');
    const va = [...a.loaded.vertices.keys()];
    const vc = [...c.loaded.vertices.keys()];
    expect(vc[0]).toBe(va[0]);
    expect(vc[1]).toBe(va[1]);
    expect(vc[2]).not.toBe(va[2]);
    const d = mk('echo hi', '2');
    expect([...d.loaded.vertices.keys()][1]).not.toBe(va[1]);
  });

  test('scratch marshals to an empty definition with no root', () => {
    const loaded = loadDefinition(State.scratch().marshal().bytes);
    expect(loaded.root).toBeUndefined();
    expect(loaded.vertices.size).toBe(0);
  });

  test('mounts are sorted by target, get inputs deduplicated, and only requested outputs', () => {
    const ctx = State.local('context');
    const base = State.image('alpine').dir('/w');
    const ex = base.run({
      args: ['true'],
      mounts: [
        { type: 'secret', target: '/run/secrets/tok', id: 'tok' },
        { type: 'bind', target: 'src', source: ctx, selector: '/app', readonly: true },
        { type: 'cache', target: '/root/.cache', id: 'go', sharing: 'locked', mode: 0o700, uid: 0 },
        { type: 'bind', target: '/out', source: undefined, output: true },
        { type: 'tmpfs', target: '/tmp', size: 1024 },
        { type: 'ssh', target: '/run/ssh', id: 'default', optional: true },
        { type: 'bind', target: '/src2', source: ctx, readonly: true },
      ],
    });
    const out = ex.mount('/out').marshal().loaded;
    const exec = only(out, 'exec')[0];
    if (exec?.op.kind !== 'exec') throw new Error('no exec');
    const mounts = exec.op.exec.mounts;
    expect(mounts.map((m) => m.dest)).toEqual(['/', '/out', '/root/.cache', '/run/secrets/tok', '/run/ssh', '/src2', '/tmp', '/w/src']);
    expect(mounts.map((m) => m.output)).toEqual([0, 1, -1, -1, -1, -1, -1, -1]);
    expect(exec.inputs).toHaveLength(2); // alpine + context (once)
    const byDest = new Map(mounts.map((m) => [m.dest, m]));
    expect(byDest.get('/w/src')).toMatchObject({ input: 1, selector: '/app', readonly: true, mountType: tsbuild.llb.MountType.BIND });
    expect(byDest.get('/src2')?.input).toBe(1);
    expect(byDest.get('/root/.cache')?.cacheOpt).toMatchObject({ id: 'go', sharing: tsbuild.llb.CacheSharingOpt.LOCKED, mode: 0o700, hasMode: true, uid: 0, hasUid: true, hasGid: false });
    expect(byDest.get('/run/secrets/tok')?.secretOpt).toMatchObject({ id: 'tok', mode: 0o400 });
    expect(byDest.get('/run/ssh')?.sshOpt).toMatchObject({ id: 'default', mode: 0o600, optional: true });
    expect(byDest.get('/tmp')?.tmpfsOpt?.size).toBe(1024);
    expect(out.root).toEqual({ digest: exec.digest, index: 1 });
    // flag order does not matter
    const again = base.run({ args: ['true'], mounts: [{ type: 'tmpfs', target: '/tmp', size: 1024 }, { type: 'bind', target: '/out', source: undefined, output: true }] }).root().marshal();
    const again2 = base.run({ args: ['true'], mounts: [{ type: 'bind', target: '/out', source: undefined, output: true }, { type: 'tmpfs', target: '/tmp', size: 1024 }] }).root().marshal();
    expect(again.loaded.root).toEqual(again2.loaded.root);
  });

  test('file action chains number their inputs like BuildKit', () => {
    const other = State.image('busybox').dir('/opt');
    const ctx = State.local('context');
    const st = State.image('alpine').dir('/app').file(
      FileActions.mkdir('data', 0o755, { makeParents: true, owner: 'app:1000' })
        .copy(ctx, 'src/', '.', { followSymlink: true, dirCopyContents: true, mode: 0o644 })
        .copy(other, 'bin', '/usr/local/bin/')
        .mkfile('/etc/motd', 0o600, 'hello\n')
        .rm('/tmp/*', { allowWildcard: true, allowNotFound: true })
        .symlink('/app/data', 'link'),
    );
    const loaded = st.marshal().loaded;
    const f = only(loaded, 'file')[0];
    if (f?.op.kind !== 'file') throw new Error('no file op');
    expect(f.inputs).toHaveLength(3); // alpine, context, busybox
    const acts = f.op.file.actions;
    expect(acts.map((a) => a.input)).toEqual([0, 3, 4, 5, 6, 7]);
    expect(acts.map((a) => a.secondaryInput)).toEqual([-1, 1, 2, -1, -1, -1]);
    expect(acts.map((a) => a.output)).toEqual([-1, -1, -1, -1, -1, 0]);
    expect(acts[0]?.mkdir).toMatchObject({ path: '/app/data', mode: 0o755, makeParents: true, timestamp: -1 });
    expect(acts[0]?.mkdir?.owner?.user?.byName).toMatchObject({ name: 'app', input: 0 });
    expect(acts[0]?.mkdir?.owner?.group?.byId).toBe(1000);
    expect(acts[1]?.copy).toMatchObject({ src: '/src', dest: '/app/', mode: 0o644, followSymlink: true, dirCopyContents: true, timestamp: -1 });
    expect(acts[2]?.copy).toMatchObject({ src: '/opt/bin', dest: '/usr/local/bin/', mode: -1 });
    expect(Buffer.from(acts[3]?.mkfile?.data ?? []).toString()).toBe('hello\n');
    expect(acts[4]?.rm).toMatchObject({ path: '/tmp/*', allowWildcard: true, allowNotFound: true });
    expect(acts[5]?.symlink).toMatchObject({ oldpath: '/app/data', newpath: '/app/link' });
  });

  test('merge of states; scratch inputs dropped', () => {
    const a = State.image('alpine');
    const b = State.scratch().file(FileActions.mkfile('/x', 0o644, 'x'));
    const m = State.merge([a, b, State.scratch()], { description: 'LINK COPY' }).marshal().loaded;
    const merge = rootVertex(m);
    if (merge.op.kind !== 'merge') throw new Error('not merge');
    expect(merge.op.merge.inputs.map((i) => i.input)).toEqual([0, 1]);
    expect(merge.metadata.description).toBe('LINK COPY');
    expect(State.merge([State.scratch(), b]).marshal().loaded.root).toEqual(b.marshal().loaded.root);
  });

  test('local source options may be computed lazily, at marshal time; attrs are sorted JSON lists', () => {
    const paths: string[] = [];
    const ctx = State.local('context', () => ({ followPaths: [...paths].sort(), excludePatterns: ['*.md', '.git'] }));
    const st = State.image('alpine').file(FileActions.copy(ctx, '/b', '/b'));
    paths.push('b', 'a');
    const loaded = st.marshal().loaded;
    const src = only(loaded, 'source').find((v) => v.op.kind === 'source' && v.op.source.identifier === 'local://context');
    if (src?.op.kind !== 'source') throw new Error('no local source');
    const attrs = src.op.source.attrs;
    expect(attrs.map((a) => a.key)).toEqual([...attrs.map((a) => a.key)].sort());
    expect(listAttr(attrs, LocalAttr.followPaths)).toEqual(['a', 'b']);
    expect(listAttr(attrs, LocalAttr.excludePatterns)).toEqual(['*.md', '.git']);
    expect(listAttr(attrs, LocalAttr.includePatterns)).toEqual([]);
  });

  test('http and git sources', () => {
    const h = State.http('https://example.com/a.tgz', { checksum: 'sha256:' + '0'.repeat(64), filename: 'a.tgz', perm: 0o600 }).marshal().loaded;
    const hv = rootVertex(h);
    if (hv.op.kind !== 'source') throw new Error('not source');
    expect(hv.op.source.identifier).toBe('https://example.com/a.tgz');
    expect(Object.fromEntries(hv.op.source.attrs.map((a) => [a.key, a.value]))).toEqual({ 'http.checksum': 'sha256:' + '0'.repeat(64), 'http.filename': 'a.tgz', 'http.perm': '0600' });
    const ids = ['https://github.com/moby/buildkit.git', 'git@github.com:moby/buildkit.git', 'ssh://git@github.com/moby/buildkit.git'].map((u) => {
      const v = rootVertex(State.git(u, { ref: 'v0.1' }).marshal().loaded);
      return v.op.kind === 'source' ? v.op.source.identifier : '';
    });
    expect(new Set(ids)).toEqual(new Set(['git://github.com/moby/buildkit.git']));
  });

  test('the cache digest ignores proxy settings and input digests, not the command', () => {
    const mk = (img: string, proxy: string, cmd: string) => rootVertex(State.image(img).run({ args: ['sh', '-c', cmd], proxyEnv: { httpProxy: proxy } }).root().marshal().loaded);
    const a = mk('alpine', 'http://p1', 'make');
    const b = mk('alpine', 'http://p2', 'make');
    const c = mk('busybox', 'http://p1', 'make');
    const d = mk('alpine', 'http://p1', 'make all');
    expect(a.digest).not.toBe(b.digest);
    expect(opCacheDigest(a)).toBe(opCacheDigest(b));
    expect(opCacheDigest(a)).toBe(opCacheDigest(c));
    expect(opCacheDigest(a)).not.toBe(opCacheDigest(d));
  });

  test('a 10,000-op chain marshals without exhausting the stack', () => {
    let st = State.image('alpine');
    for (let i = 0; i < 10_000; i++) st = st.file(FileActions.mkdir(`/d${i}`, 0o755));
    const loaded = st.marshal().loaded;
    expect(loaded.vertices.size).toBe(10_001);
  });
});

describe('op outputs', () => {
  test('an op is its own output 0; other outputs are { node, index }; a marshalled graph reads both', () => {
    const node = new OpNode({ inputs: [], body: { exec: { meta: { args: ['true'] }, mounts: [{ input: -1, dest: '/', output: 0 }, { input: -1, dest: '/x', output: 1 }] } }, outputs: 2 });
    // A node is an object literal with the class's prototype (op-node.ts): still an OpNode.
    expect(node).toBeInstanceOf(OpNode);
    expect(Object.getPrototypeOf(node)).toBe(OpNode.prototype);
    expect(node.outputs).toBe(2);
    expect(node.hasEncodedBody).toBe(true);
    expect(node.body().exec?.meta?.args).toEqual(['true']);
    expect(node.output(0)).toBe(node);
    expect(node.node).toBe(node);
    expect(node.index).toBe(0);
    const second = node.output(1);
    expect(second).not.toBe(node);
    expect(second.node).toBe(node);
    expect(second.index).toBe(1);
    expect(() => node.output(2)).toThrow(RangeError);
    const user = new OpNode({ inputs: [node.output(0), second], body: { exec: { meta: { args: ['ls'] }, mounts: [{ input: 0, dest: '/', output: 0 }, { input: 1, dest: '/y', output: -1 }] } }, outputs: 1 });
    const loaded = loadDefinition(State.scratch().withOutput(user.output(0)).marshal().bytes);
    const root = rootVertex(loaded);
    expect(root.inputs.map((i) => i.index)).toEqual([0, 1]);
    expect(root.inputs[0]?.digest).toBe(root.inputs[1]?.digest);
  });
});

describe('loadDefinition rejects broken definitions', () => {
  const enc = (ops: tsbuild.llb.Op.$Properties[]): Uint8Array =>
    tsbuild.llb.Definition.encode({ def: ops.map((o) => tsbuild.llb.Op.encode(o).finish()) }).finish();
  const src = { source: { identifier: 'docker-image://docker.io/library/alpine:latest' } };
  const srcDigest = sha256Digest(tsbuild.llb.Op.encode(src).finish());

  test.each<[string, tsbuild.llb.Op.$Properties[], RegExp]>([
    ['forward reference', [{ inputs: [{ digest: 'sha256:' + '1'.repeat(64) }], exec: { meta: { args: ['x'] }, mounts: [{ dest: '/', output: 0 }] } }, { inputs: [{ digest: srcDigest }] }], /does not come before it/],
    ['terminal with a body', [src, src], /terminal/],
    ['terminal with two inputs', [src, { inputs: [{ digest: srcDigest }, { digest: srcDigest }] }], /exactly one input/],
    ['output out of range', [src, { inputs: [{ digest: srcDigest, index: 1 }] }], /uses output 1/],
    ['exec without root mount', [src, { inputs: [{ digest: srcDigest }], exec: { meta: { args: ['x'] }, mounts: [{ dest: '/x', output: 0 }] } }, { inputs: [{ digest: 'x' }] }], /root mount/],
    ['file action input out of range', [src, { inputs: [{ digest: srcDigest }], file: { actions: [{ input: 5, output: 0, mkdir: { path: '/a' } }] } }, { inputs: [{ digest: srcDigest }] }], /out of range/],
  ])('%s', (_name, ops, why) => {
    expect(() => loadDefinition(enc(ops))).toThrow(why);
  });

  test('garbage bytes', () => {
    expect(() => loadDefinition(Uint8Array.from([0xff, 0xff, 0xff, 0x0f]))).toThrow(/invalid LLB definition/);
  });
});
