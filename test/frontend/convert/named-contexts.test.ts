/**
 * `--build-context` in the conversion (src/frontend/dockerfile/convert/named-contexts.ts), as
 * BuildKit's Dockerfile frontend uses named contexts: a FROM, `COPY --from` or `RUN --mount from=`
 * naming one reads it instead of the image; a stage named like one is replaced whole (none of its
 * steps, nor what only they read, is converted); names match by their familiar reference form.
 */
import { describe, expect, test } from '@jest/globals';
import type { NamedContext } from '../../../src/frontend/types.js';
import { attr, GitAttr, HttpAttr, listAttr, LocalAttr } from '../../../src/llb/source-attrs.js';
import { byName, convert, fileOf, sourceOf, vertices } from './helpers.js';

const contexts = (o: Record<string, NamedContext>): Map<string, NamedContext> => new Map(Object.entries(o));
const sources = (r: Awaited<ReturnType<typeof convert>>): string[] => vertices(r).filter((v) => v.op.kind === 'source').map((v) => sourceOf(v).identifier).sort();

describe('--build-context', () => {
  test('FROM NAME reads an image context: its config is the base config, the step is named as BuildKit names it', async () => {
    const seen: string[] = [];
    const r = await convert('FROM alpine\nRUN true\n', {
      namedContexts: contexts({ alpine: { kind: 'image', ref: 'localhost/busybox:1' } }),
      imageResolver: async (ref) => {
        seen.push(ref);
        return { architecture: 'amd64', os: 'linux', config: { Env: ['FROM_CONTEXT=1'], WorkingDir: '/w' }, rootfs: { type: 'layers', diff_ids: ['sha256:' + 'a'.repeat(64)] } };
      },
    });
    expect(seen).toEqual(['localhost/busybox:1']);
    expect(sources(r)).toEqual(['docker-image://localhost/busybox:1']);
    expect(byName(r, '[context alpine]').metadata.description).toBe('[context alpine] localhost/busybox:1');
    expect(r.image.config.Env).toContain('FROM_CONTEXT=1');
    expect(r.image.config.WorkingDir).toBe('/w');
    expect(r.stages[0]?.base).toEqual({ kind: 'context', name: 'alpine' });
  });

  test('names match by familiar reference without :latest; another tag is another name; scratch and context are never looked up', async () => {
    const img: NamedContext = { kind: 'image', ref: 'localhost/other:2' };
    for (const [given, from, matches] of [
      ['docker.io/library/alpine', 'FROM alpine:latest', true],
      ['alpine:latest', 'FROM docker.io/library/alpine', true],
      ['alpine:3.19', 'FROM alpine', false],
      ['alpine', 'FROM alpine:3.19', false],
    ] as const) {
      const r = await convert(`${from}\nRUN true\n`, { namedContexts: contexts({ [given]: img }) });
      expect([given, from, sources(r).includes('docker-image://localhost/other:2')]).toEqual([given, from, matches]);
    }
    const r = await convert('FROM scratch\nCOPY --from=context /a /a\n', { namedContexts: contexts({ scratch: img, context: img }) });
    expect(sources(r)).toEqual(['docker-image://docker.io/library/context:latest']);
  });

  test('NAME::PLATFORM is taken for a stage of that platform before NAME (arm64 and arm64/v8 are one)', async () => {
    const named = contexts({
      'alpine::linux/arm64/v8': { kind: 'image', ref: 'localhost/for-arm:1' },
      alpine: { kind: 'image', ref: 'localhost/any:1' },
      'tools::linux/amd64': { kind: 'image', ref: 'localhost/tools-amd:1' },
    });
    const df = 'FROM alpine\nCOPY --from=tools /t /t\n';
    expect(sources(await convert(df, { platform: 'linux/arm64', namedContexts: named }))).toEqual(['docker-image://docker.io/library/tools:latest', 'docker-image://localhost/for-arm:1']);
    expect(sources(await convert(df, { platform: 'linux/amd64', namedContexts: named }))).toEqual(['docker-image://localhost/any:1', 'docker-image://localhost/tools-amd:1']);
  });

  test('a stage named like a context is replaced whole: its steps and what only they read are not converted', async () => {
    const df = 'FROM golang AS build\nCOPY . /src\nRUN make\nFROM alpine\nCOPY --from=build /out/app /app\n';
    const r = await convert(df, { namedContexts: contexts({ build: { kind: 'local', localName: 'named:build', excludes: ['*.tmp'] } }) });
    expect(vertices(r).some((v) => v.metadata.description.includes('RUN make'))).toBe(false);
    expect(sources(r)).toEqual(['docker-image://docker.io/library/alpine:latest', 'local://named:build']);
    const local = vertices(r).find((v) => v.op.kind === 'source' && sourceOf(v).identifier === 'local://named:build');
    expect(local?.metadata.description).toBe('[context build] load from client');
    expect(listAttr(sourceOf(local!).attrs, LocalAttr.excludePatterns)).toEqual(['*.tmp']);
    const copy = fileOf(byName(r, 'COPY --from=build'));
    expect(copy.actions).toHaveLength(1);
    expect(r.stages.find((s) => s.id === 'build')?.base).toEqual({ kind: 'context', name: 'build' });
  });

  test('COPY --from=IMAGE and RUN --mount from=IMAGE read the context; an earlier stage of that name is still the stage', async () => {
    const df = 'FROM alpine AS tools\nRUN build-tools\nFROM alpine\nCOPY --from=busybox:1.36 /bin/busybox /bb\nRUN --mount=from=helper,target=/h true\nCOPY --from=tools /t /t\n';
    const r = await convert(df, { namedContexts: contexts({ 'busybox:1.36': { kind: 'image', ref: 'localhost/bb:9' }, helper: { kind: 'image', ref: 'scratch' } }) });
    expect(sources(r)).toEqual(['docker-image://docker.io/library/alpine:latest', 'docker-image://localhost/bb:9']);
    expect(vertices(r).some((v) => v.metadata.description.includes('RUN build-tools'))).toBe(true);
  });

  test('a Git or HTTP(S) URL context: a checkout, or one file named context', async () => {
    const r = await convert('FROM alpine\nCOPY --from=src / /src\nCOPY --from=blob /context /blob\n', {
      namedContexts: contexts({ src: { kind: 'url', url: 'https://example.invalid/repo.git#v1' }, blob: { kind: 'url', url: 'https://example.invalid/file.txt' } }),
    });
    const ids = sources(r);
    expect(ids).toContain('git://example.invalid/repo.git');
    expect(ids).toContain('https://example.invalid/file.txt');
    const git = vertices(r).find((v) => v.op.kind === 'source' && sourceOf(v).identifier.startsWith('git://'));
    expect(attr(sourceOf(git!).attrs, GitAttr.ref)).toBe('v1');
    const http = vertices(r).find((v) => v.op.kind === 'source' && sourceOf(v).identifier.startsWith('https://'));
    expect(attr(sourceOf(http!).attrs, HttpAttr.filename)).toBe('context');
  });
});
