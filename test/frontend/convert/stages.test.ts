import { describe, expect, test } from '@jest/globals';
import { alg } from '@dagrejs/graphlib';
import { byName, convert, execOf, fileOf, sourceOf, vertices } from './helpers.js';

const MULTI = [
  'FROM golang:1.22 AS builder',      // 1
  'WORKDIR /src',                      // 2
  'COPY go.mod ./',                    // 3
  'RUN go build -o /out/app .',        // 4
  'FROM alpine AS tools',              // 5
  'RUN apk add curl',                  // 6
  'FROM builder AS tester',            // 7
  'RUN go test ./...',                 // 8
  'FROM alpine AS unused',             // 9
  'ENV X="${NOPE:?never evaluated}"',  // 10
  'FROM scratch AS final',             // 11
  'COPY --from=builder /out/app /app', // 12
  'COPY --from=1 /usr/bin/curl /curl', // 13
  'COPY --from=busybox:1.36 /bin/busybox /bin/sh', // 14
  '',
].join('\n');

describe('multi-stage builds', () => {
  test('only stages reachable from the target are converted', async () => {
    const r = await convert(MULTI);
    expect(r.target).toBe('final');
    const reach = Object.fromEntries(r.stages.map((s) => [s.id, s.reachable]));
    expect(reach).toEqual({ builder: true, tools: true, tester: false, unused: false, final: true });
    const names = vertices(r).map((v) => v.metadata.description);
    expect(names.some((n) => n.includes('go test'))).toBe(false);
    expect(names.some((n) => n.includes('apk add curl'))).toBe(true);
    expect(names).toContain('[builder 4/4] RUN go build -o /out/app .');
    expect(names).toContain('[final 3/3] COPY --from=busybox:1.36 /bin/busybox /bin/sh');
    // COPY --from=<image> reads a pseudo-stage: the image itself
    expect(vertices(r).filter((v) => v.op.kind === 'source').map((v) => sourceOf(v).identifier)).toEqual(expect.arrayContaining([
      'docker-image://docker.io/library/golang:1.22',
      'docker-image://docker.io/library/alpine:latest',
      'docker-image://docker.io/library/busybox:1.36',
      'local://context',
    ]));
    expect(byName(r, 'FROM docker.io/library/busybox').metadata.description).toBe('FROM docker.io/library/busybox:1.36');
    // the final COPYs read the stages' results
    const copy = byName(r, '[final 1/3] COPY --from=builder');
    expect(copy.inputs.map((i) => i.digest)).toContain(byName(r, 'go build').digest);
  });

  test('--target picks a stage (case-insensitively); its FROM-stage base is inherited', async () => {
    const r = await convert(MULTI, { target: 'TESTER' });
    expect(r.target).toBe('tester');
    const run = byName(r, '[tester 1/1] RUN go test');
    expect(run.inputs[0]?.digest).toBe(byName(r, 'go build').digest);
    expect(execOf(run).meta?.cwd).toBe('/src');
    expect(r.image.config.WorkingDir).toBe('/src');
    expect(Object.fromEntries(r.stages.map((s) => [s.id, s.reachable]))).toMatchObject({ builder: true, tools: false, final: false });
  });

  test('an expansion error in an unreachable stage does not fail the build; in a reachable one it does', async () => {
    await expect(convert(MULTI)).resolves.toBeDefined();
    await expect(convert(MULTI, { target: 'unused' })).rejects.toMatchObject({ code: 'SHELL_EXPANSION' });
  });

  test('the stage graph is a graphlib DAG with typed edges', async () => {
    const r = await convert(MULTI);
    const g = r.graph;
    expect(g.graph()).toBe('final');
    expect(alg.isAcyclic(g as never)).toBe(true);
    expect(g.edge('builder', 'tester')).toEqual({ kind: 'base' });
    expect(g.edge('builder', 'final')).toEqual({ kind: 'copy' });
    expect(g.edge('tools', 'final')).toEqual({ kind: 'copy' });
    expect(g.edge('image:docker.io/library/busybox:1.36', 'final')).toEqual({ kind: 'copy' });
    expect(g.node('final')).toMatchObject({ id: 'final', index: 4, base: { kind: 'scratch' }, dependsOn: ['builder', 'tools', 'image:docker.io/library/busybox:1.36'] });
    expect(g.node('tester')).toMatchObject({ base: { kind: 'stage', stage: 'builder' } });
  });

  test('RUN --mount from= a stage makes that stage a dependency', async () => {
    const r = await convert('FROM alpine AS deps\nRUN make deps\nFROM alpine\nRUN --mount=from=deps,source=/out,target=/deps cp -r /deps /x\n');
    expect(r.stages.find((s) => s.id === 'deps')?.reachable).toBe(true);
    const run = byName(r, 'cp -r');
    const m = execOf(run).mounts.find((x) => x.dest === '/deps');
    expect(m).toMatchObject({ selector: '/out', readonly: true });
    expect(run.inputs[m?.input ?? -1]?.digest).toBe(byName(r, 'make deps').digest);
    expect(r.graph.edge('deps', 'stage-1')).toEqual({ kind: 'mount' });
  });

  test('step numbers are padded to the width of the total, as BuildKit does', async () => {
    const body = Array.from({ length: 11 }, (_, i) => `RUN echo ${i}`).join('\n');
    const r = await convert(`FROM alpine AS a\n${body}\nFROM a\n`, { target: 'a' });
    expect(byName(r, 'echo 0').metadata.description).toBe('[a  2/12] RUN echo 0');
    expect(byName(r, 'echo 10').metadata).toMatchObject({ description: '[a 12/12] RUN echo 10', stage: 'a', step: 12, steps: 12 });
  });

  test('metadata carries the source location of each step', async () => {
    const r = await convert(MULTI);
    expect(byName(r, 'go build').metadata.locations).toEqual([{ sourceIndex: 0, startLine: 4, endLine: 4, startColumn: 1 }]);
    expect(r.definition.loaded.sources[0]?.filename).toBe('Dockerfile');
    expect(byName(r, '[internal] load build context').metadata.locations).toEqual([]);
    // An image read only by COPY --from: a failure to pull it points at that COPY.
    expect(byName(r, 'FROM docker.io/library/busybox:1.36').metadata.locations).toEqual([{ sourceIndex: 0, startLine: 14, endLine: 14, startColumn: 1 }]);
  });

  test('no-cache and no-cache-filter mark steps', async () => {
    const all = await convert(MULTI, { noCache: true });
    expect(vertices(all).filter((v) => v.op.kind !== 'source').every((v) => v.metadata.ignoreCache)).toBe(true);
    const some = await convert(MULTI, { noCacheFilter: ['Builder'] });
    expect(byName(some, 'go build').metadata.ignoreCache).toBe(true);
    expect(byName(some, 'apk add').metadata.ignoreCache).toBe(false);
    expect(fileOf(byName(some, '[final 1/3]')).actions).toHaveLength(1);
    expect(byName(some, '[final 1/3]').metadata.ignoreCache).toBe(false);
  });
});
