import { describe, expect, test } from '@jest/globals';
import type { ImageConfig } from '../../../src/oci/types.js';
import { opCacheDigest } from '../../../src/llb/cache-digest.js';
import { byName, convert, execOf, fileOf, sourceOf, vertices } from './helpers.js';

const ARGS_DOCKERFILE = [
  'FROM alpine',
  'RUN echo before',
  'ARG V=1',
  'COPY a /a',
  'RUN echo uses $V',
  'RUN echo after',
  '',
].join('\n');

describe('ARG semantics', () => {
  test('an ARG change changes the first RUN that sees it (and what follows), not earlier ops', async () => {
    const d1 = await convert(ARGS_DOCKERFILE);
    const d2 = await convert(ARGS_DOCKERFILE, { buildArgs: new Map([['V', '2']]) });
    const dig = (r: typeof d1, n: string) => byName(r, n).digest;
    expect(dig(d2, 'FROM')).toBe(dig(d1, 'FROM'));
    expect(dig(d2, 'RUN echo before')).toBe(dig(d1, 'RUN echo before'));
    expect(dig(d2, 'COPY a /a')).toBe(dig(d1, 'COPY a /a'));
    expect(dig(d2, 'RUN echo uses')).not.toBe(dig(d1, 'RUN echo uses'));
    expect(dig(d2, 'RUN echo after')).not.toBe(dig(d1, 'RUN echo after'));
    expect(execOf(byName(d2, 'RUN echo uses')).meta?.env).toContain('V=2');
    expect(execOf(byName(d1, 'RUN echo uses')).meta?.env).toContain('V=1');
    expect(execOf(byName(d1, 'RUN echo before')).meta?.env.some((e) => e.startsWith('V='))).toBe(false);
    // the value the step sees is shown in its progress name and history
    expect(byName(d2, 'RUN echo uses').metadata.description).toBe('[4/5] RUN echo uses 2');
    expect(d2.image.history?.map((h) => h.created_by)).toContain('RUN |1 V=2 /bin/sh -c echo uses $V # buildkit');
    // ARGs are not part of the image's Env
    expect(d2.image.config.Env?.some((e) => e.startsWith('V='))).toBe(false);
  });

  test('of an ARG and an ENV of the same name the later one wins for RUN; the image keeps the ENV value', async () => {
    const r = await convert('FROM alpine\nARG A=arg\nENV A=env\nENV B=env\nARG B=arg\nRUN echo $A $B\nENV C=$B\n', { buildArgs: new Map([['B', 'cli']]) });
    const env = execOf(byName(r, 'RUN echo')).meta?.env ?? [];
    expect(env).toContain('A=env');
    expect(env).toContain('B=cli');
    expect(env.filter((e) => e.startsWith('A=') || e.startsWith('B='))).toHaveLength(2);
    expect(byName(r, 'RUN echo').metadata.description).toBe('[2/2] RUN echo env cli');
    expect(r.image.history?.find((h) => h.created_by?.startsWith('RUN'))?.created_by).toBe('RUN |2 A=env B=cli /bin/sh -c echo $A $B # buildkit');
    // later expansions see the ARG value too; the config keeps what ENV set
    expect(r.image.config.Env).toEqual(expect.arrayContaining(['A=env', 'B=env', 'C=cli']));
  });

  test('an ARG overrides the base image\'s ENV of the same name for RUN, with or without a default', async () => {
    const base: ImageConfig = { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin', 'X=base', 'Y=base'] }, rootfs: { type: 'layers', diff_ids: ['sha256:' + '1'.repeat(64)] }, history: [{}] };
    const r = await convert('FROM base\nARG X=arg\nARG Y\nRUN echo\n', { imageResolver: async () => base });
    const env = execOf(byName(r, 'RUN echo')).meta?.env ?? [];
    expect(env).toContain('X=arg');
    expect(env).toContain('Y=base');
    expect(r.image.config.Env).toEqual(['PATH=/bin', 'X=base', 'Y=base']);
    expect(r.image.history?.find((h) => h.created_by?.startsWith('RUN'))?.created_by).toBe('RUN |2 X=arg Y=base /bin/sh -c echo # buildkit');
  });

  test('global ARGs in FROM, --build-arg overriding them, and re-declaration inside stages', async () => {
    const src = 'ARG TAG=3.18\nARG V=global\nFROM alpine:${TAG} AS a\nARG V\nRUN echo a\nFROM alpine:${TAG}\nRUN echo b\n';
    const r = await convert(src);
    expect(sourceOf(byName(await convert(src, { target: 'a' }), '[a 1/2] FROM')).identifier).toBe('docker-image://docker.io/library/alpine:3.18');
    expect(sourceOf(byName(r, '[stage-1 1/2] FROM')).identifier).toBe('docker-image://docker.io/library/alpine:3.18');
    const r2 = await convert(src, { buildArgs: new Map([['TAG', '3.19']]), target: 'a' });
    expect(sourceOf(byName(r2, 'FROM')).identifier).toBe('docker-image://docker.io/library/alpine:3.19');
    expect(execOf(byName(r2, 'RUN echo a')).meta?.env).toContain('V=global');
    // a stage that does not re-declare the global ARG does not see it
    expect(execOf(byName(r, 'RUN echo b')).meta?.env.some((e) => e.startsWith('V='))).toBe(false);
  });

  test('ARG defaults expand earlier variables', async () => {
    const r = await convert('FROM alpine\nENV BASE=/opt\nARG DIR=$BASE/app\nARG N\nRUN echo\n');
    expect(execOf(byName(r, 'RUN echo')).meta?.env).toContain('DIR=/opt/app');
    expect(r.image.history?.map((h) => h.created_by)).toEqual(expect.arrayContaining(['ARG DIR=/opt/app', 'ARG N']));
  });

  test('predefined platform ARGs', async () => {
    const src = 'FROM --platform=$BUILDPLATFORM alpine AS build\nARG TARGETPLATFORM\nARG TARGETOS\nARG TARGETARCH\nARG TARGETVARIANT\nARG BUILDPLATFORM\nRUN echo\n';
    const r = await convert(src, { platform: 'linux/arm/v7' });
    const env = execOf(byName(r, 'RUN echo')).meta?.env ?? [];
    expect(env).toEqual(expect.arrayContaining(['TARGETPLATFORM=linux/arm/v7', 'TARGETOS=linux', 'TARGETARCH=arm', 'TARGETVARIANT=v7']));
    expect(env.find((e) => e.startsWith('BUILDPLATFORM=linux/'))).toBeDefined();
    // without ARG they are not in the environment
    const r2 = await convert('FROM alpine\nRUN echo\n', { platform: 'linux/arm64' });
    expect(execOf(byName(r2, 'RUN echo')).meta?.env.some((e) => e.startsWith('TARGET'))).toBe(false);
    expect(byName(r2, 'RUN echo').op.pb.platform).toMatchObject({ os: 'linux', architecture: 'arm64' });
    expect(r2.image).toMatchObject({ os: 'linux', architecture: 'arm64' });
  });

  test('proxy build args reach RUN without ARG and stay out of env, history and cache keys', async () => {
    const src = 'FROM alpine\nRUN apk add curl\n';
    const a = await convert(src, { buildArgs: new Map([['HTTP_PROXY', 'http://proxy:3128'], ['no_proxy', 'localhost']]) });
    const b = await convert(src, { buildArgs: new Map([['HTTP_PROXY', 'http://other:3128']]) });
    const c = await convert(src);
    const ea = execOf(byName(a, 'RUN'));
    expect(ea.meta?.proxyEnv).toMatchObject({ httpProxy: 'http://proxy:3128', noProxy: 'localhost' });
    expect(ea.meta?.env.some((e) => /proxy/i.test(e))).toBe(false);
    expect(a.warnings.filter((w) => w.code === 'UnusedBuildArgs')).toEqual([]);
    expect(a.image.history?.[0]?.created_by).toBe('RUN /bin/sh -c apk add curl # buildkit');
    expect(opCacheDigest(byName(a, 'RUN'))).toBe(opCacheDigest(byName(b, 'RUN')));
    expect(opCacheDigest(byName(a, 'RUN'))).toBe(opCacheDigest(byName(c, 'RUN')));
  });

  test('unused --build-arg values are reported', async () => {
    const r = await convert('FROM alpine\nARG USED\nRUN true\n', { buildArgs: new Map([['USED', '1'], ['NOPE', '2'], ['ZED', '3']]) });
    expect(r.warnings).toContainEqual({ code: 'UnusedBuildArgs', message: 'one or more build-args [NOPE ZED] were not consumed' });
  });

  test('SOURCE_DATE_EPOCH stamps history and created files', async () => {
    const r = await convert('FROM alpine\nWORKDIR /app\nCOPY a b\nENV X=1\n', { buildArgs: new Map([['SOURCE_DATE_EPOCH', '1700000000']]) });
    expect(r.image.history?.every((h) => h.created === '2023-11-14T22:13:20Z')).toBe(true);
    expect(fileOf(byName(r, 'COPY')).actions[0]?.copy?.timestamp).toBe(1700000000);
    expect(fileOf(byName(r, 'WORKDIR')).actions[0]?.mkdir?.timestamp).toBe(1700000000);
    const plain = await convert('FROM alpine\nCOPY a b\n');
    expect(fileOf(byName(plain, 'COPY')).actions[0]?.copy?.timestamp).toBe(-1);
    expect(plain.image.history?.[0]?.created).toBeUndefined();
    await expect(convert('FROM alpine\n', { buildArgs: new Map([['SOURCE_DATE_EPOCH', 'yesterday']]) })).rejects.toThrow(/invalid SOURCE_DATE_EPOCH/);
  });

  test('vertices of a single stage build carry no stage prefix', async () => {
    const r = await convert(ARGS_DOCKERFILE);
    expect(vertices(r).map((v) => v.metadata.description)).toEqual([
      '[1/5] FROM docker.io/library/alpine:latest',
      '[2/5] RUN echo before',
      '[internal] load build context',
      '[3/5] COPY a /a',
      '[4/5] RUN echo uses 1',
      '[5/5] RUN echo after',
    ]);
  });

  test('RUN history lists every ARG declaration of its own stage, as Docker 20.10 (compat: arg-duplicate-history, arg-global-history)', async () => {
    const dup = await convert('ARG G=global\nFROM alpine\nARG A=1\nARG B\nARG A\nRUN echo 1\nARG G\nARG A=3 C=c\nRUN echo 2\n', { buildArgs: new Map([['B', 'bee']]) });
    const runs = dup.image.history?.filter((h) => h.created_by?.startsWith('RUN')).map((h) => h.created_by);
    expect(runs).toEqual([
      'RUN |3 A=1 B=bee A=1 /bin/sh -c echo 1 # buildkit',
      'RUN |6 A=3 B=bee A=3 G=global A=3 C=c /bin/sh -c echo 2 # buildkit',
    ]);
    // A stage based on a stage keeps the values (env) but not the declarations.
    const child = await convert('ARG P=parent\nFROM alpine AS parent\nARG X=x\nRUN echo p\nFROM ${P}\nARG Y=y\nRUN echo $X $Y\n');
    expect(child.image.history?.filter((h) => h.created_by?.startsWith('RUN')).at(-1)?.created_by).toBe('RUN |1 Y=y /bin/sh -c echo $X $Y # buildkit');
    expect(execOf(byName(child, 'RUN echo x y')).meta?.env).toEqual(expect.arrayContaining(['X=x', 'Y=y']));
  });

  test('RUN history follows each ENV and ARG between RUN steps (the ARG part is reused only while both are unchanged)', async () => {
    const r = await convert('FROM alpine\nARG A=1\nRUN echo 1\nRUN echo 2\nENV A=2\nRUN echo 3\nARG B=b\nRUN echo 4\nENV OTHER=x\nRUN echo 5\nARG A\nRUN echo 6\nENV B=c\nRUN echo 7\n');
    expect(r.image.history?.filter((h) => h.created_by?.startsWith('RUN')).map((h) => h.created_by)).toEqual([
      'RUN |1 A=1 /bin/sh -c echo 1 # buildkit',
      'RUN |1 A=1 /bin/sh -c echo 2 # buildkit',
      'RUN |1 A=2 /bin/sh -c echo 3 # buildkit',
      'RUN |2 A=2 B=b /bin/sh -c echo 4 # buildkit',
      'RUN |2 A=2 B=b /bin/sh -c echo 5 # buildkit',
      'RUN |3 A=2 B=b A=2 /bin/sh -c echo 6 # buildkit',
      'RUN |3 A=2 B=c A=2 /bin/sh -c echo 7 # buildkit',
    ]);
  });

  test('WORKDIR with `..` in an absolute path: kept as written in the RUN cwd, WorkingDir and history (compat: workdir-dotdot)', async () => {
    const r = await convert('FROM alpine\nWORKDIR /a/../b\nRUN echo one\nWORKDIR /c/\nRUN echo two\n');
    expect(execOf(byName(r, 'RUN echo one')).meta?.cwd).toBe('/a/../b');
    expect(execOf(byName(r, 'RUN echo two')).meta?.cwd).toBe('/c');
    expect(fileOf(byName(r, 'WORKDIR /a/../b')).actions[0]?.mkdir?.path).toBe('/b');
    expect(r.image.config.WorkingDir).toBe('/c/');
    expect(r.image.history?.map((h) => h.created_by)).toContain('WORKDIR /a/../b');
  });
});
