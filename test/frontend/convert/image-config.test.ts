import { describe, expect, test } from '@jest/globals';
import type { ImageConfig } from '../../../src/oci/types.js';
import type { ImageResolver } from '../../../src/frontend/types.js';
import { byName, convert, execOf, fileOf, vertices } from './helpers.js';

const CONFIG_DOCKERFILE = [
  'FROM alpine',
  'LABEL org.opencontainers.image.title="demo app" version=1',
  'ENV APP_HOME=/app PATH=/app/bin:$PATH',
  'ENV LEGACY some value',
  'WORKDIR $APP_HOME',
  'WORKDIR sub',
  'USER app:app',
  'EXPOSE 8080 53/udp 9000-9001',
  'VOLUME ["/data", "/cache"]',
  'STOPSIGNAL SIGINT',
  'HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD curl -f http://localhost/ || exit 1',
  'SHELL ["/bin/bash", "-c"]',
  'ONBUILD RUN echo triggered',
  'MAINTAINER someone',
  'CMD echo hello',
  '',
].join('\n');

describe('image config and history', () => {
  test('every config field', async () => {
    const r = await convert(CONFIG_DOCKERFILE, { labels: new Map([['extra', 'yes']]) });
    expect(r.image).toMatchObject({ architecture: 'amd64', os: 'linux', author: 'someone' });
    expect(r.image.config).toEqual({
      Env: ['PATH=/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP_HOME=/app', 'LEGACY=some value'],
      Labels: { 'org.opencontainers.image.title': 'demo app', version: '1', extra: 'yes' },
      WorkingDir: '/app/sub',
      User: 'app:app',
      ExposedPorts: { '8080/tcp': {}, '53/udp': {}, '9000/tcp': {}, '9001/tcp': {} },
      Volumes: { '/data': {}, '/cache': {} },
      StopSignal: 'SIGINT',
      Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], Interval: 30e9, Timeout: 3e9, Retries: 3 },
      Shell: ['/bin/bash', '-c'],
      OnBuild: ['RUN echo triggered'],
      Cmd: ['/bin/bash', '-c', 'echo hello'],
      ArgsEscaped: true,
    });
  });

  test('one history entry per instruction, worded like BuildKit', async () => {
    const r = await convert(CONFIG_DOCKERFILE);
    expect(r.image.history?.map((h) => [h.created_by, h.empty_layer ?? false])).toEqual([
      ['LABEL org.opencontainers.image.title=demo app version=1', true],
      ['ENV APP_HOME=/app PATH=/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', true],
      ['ENV LEGACY=some value', true],
      ['WORKDIR /app', false],
      ['WORKDIR /app/sub', false],
      ['USER app:app', true],
      ['EXPOSE [8080/tcp 53/udp 9000/tcp 9001/tcp]', true],
      ['VOLUME [/data /cache]', true],
      ['STOPSIGNAL SIGINT', true],
      ['HEALTHCHECK &{["CMD-SHELL" "curl -f http://localhost/ || exit 1"] "30s" "3s" "0s" "0s" \'\\x03\'}', true],
      ['SHELL [/bin/bash -c]', true],
      ['MAINTAINER someone', true],
      ['CMD ["/bin/bash" "-c" "echo hello"]', true],
    ]);
    expect(r.image.history?.every((h) => h.comment === 'buildkit.dockerfile.v0')).toBe(true);
  });

  test('RUN, COPY and ADD history; SHELL applies to later shell-form RUNs', async () => {
    const r = await convert('FROM alpine\nRUN echo hi\nCOPY layer1 /data/layer\nADD --chown=1:2 --chmod=644 a.tar /x/\nSHELL ["/bin/bash", "-c"]\nRUN echo bash\nRUN ["/bin/true"]\nENTRYPOINT ["/app"]\n');
    expect(r.image.history?.map((h) => [h.created_by, h.empty_layer ?? false])).toEqual([
      ['RUN /bin/sh -c echo hi # buildkit', false],
      ['COPY layer1 /data/layer # buildkit', false],
      ['ADD --chown=1:2 --chmod=644 a.tar /x/ # buildkit', false],
      ['SHELL [/bin/bash -c]', true],
      ['RUN /bin/bash -c echo bash # buildkit', false],
      ['RUN /bin/true # buildkit', false],
      ['ENTRYPOINT ["/app"]', true],
    ]);
    expect(execOf(byName(r, 'echo bash')).meta?.args).toEqual(['/bin/bash', '-c', 'echo bash']);
    expect(execOf(byName(r, '/bin/true')).meta?.args).toEqual(['/bin/true']);
    // ENTRYPOINT without a CMD in the same stage resets an inherited CMD
    expect(r.image.config.Cmd).toBeNull();
  });

  test('WORKDIR creates its directory (owned by USER) with a mkdir file op', async () => {
    const r = await convert('FROM alpine\nUSER app\nWORKDIR /srv/www\nWORKDIR ../logs\nWORKDIR /\n');
    const mk = byName(r, 'WORKDIR /srv/www');
    if (mk.op.kind !== 'file') throw new Error('not a file op');
    expect(mk.op.file.actions[0]?.mkdir).toMatchObject({ path: '/srv/www', mode: 0o755, makeParents: true });
    expect(mk.op.file.actions[0]?.mkdir?.owner?.user?.byName?.name).toBe('app');
    expect(byName(r, 'WORKDIR ../logs').op.kind).toBe('file');
    expect(r.image.config.WorkingDir).toBe('/');
    expect(vertices(r).filter((v) => v.op.kind === 'file')).toHaveLength(2);
  });

  test('WORKDIR keeps an absolute path as written in the config and history (trailing slash too); relative ones are joined and cleaned', async () => {
    const r = await convert('FROM alpine\nWORKDIR /a/b/\nRUN pwd\nWORKDIR c/\nRUN pwd\nWORKDIR /z//w/\n');
    expect(r.image.history?.map((h) => h.created_by).filter((c) => c?.startsWith('WORKDIR'))).toEqual(['WORKDIR /a/b/', 'WORKDIR /a/b/c', 'WORKDIR /z//w/']);
    expect(r.image.config.WorkingDir).toBe('/z//w/');
    // the build works with the clean path
    expect(execOf(byName(r, '[3/6] RUN pwd')).meta?.cwd).toBe('/a/b');
    expect(execOf(byName(r, '[5/6] RUN pwd')).meta?.cwd).toBe('/a/b/c');
    expect(fileOf(byName(r, 'WORKDIR /z//w/')).actions[0]?.mkdir?.path).toBe('/z/w');
  });
});

describe('history of multi-stage builds', () => {
  // Only the stages whose config reaches the result record history (StageState.keepsHistory):
  // the target and the stages it is built FROM, however deep; stages read by COPY --from or
  // mounts, and unreachable ones, do not show in it.
  const STAGES = [
    'FROM alpine AS a',
    'ARG V=1',
    'ENV A=1',
    'LABEL l=a',
    'USER app',
    'WORKDIR /w',
    'EXPOSE 80',
    'VOLUME /v',
    'HEALTHCHECK --interval=30s CMD true',
    'STOPSIGNAL SIGINT',
    'SHELL ["/bin/bash", "-c"]',
    'CMD run-a',
    'ENTRYPOINT ["ep"]',
    'MAINTAINER me',
    'RUN echo a',
    'FROM alpine AS other',
    'ENV O=1',
    'RUN echo other > /o',
    'COPY o.txt /o/',
    'FROM a AS b',
    'COPY --from=other /o /o',
    'ADD b.tgz /b/',
    'FROM b',
    'RUN --mount=from=other,target=/m echo c',
    '',
  ].join('\n');

  test('the target and its base stages, every instruction kind', async () => {
    const r = await convert(STAGES);
    expect(r.image.history?.map((h) => h.created_by)).toEqual([
      'ARG V=1',
      'ENV A=1',
      'LABEL l=a',
      'USER app',
      'WORKDIR /w',
      'EXPOSE [80/tcp]',
      'VOLUME [/v]',
      'HEALTHCHECK &{["CMD-SHELL" "true"] "30s" "0s" "0s" "0s" \'\\x00\'}',
      'STOPSIGNAL SIGINT',
      'SHELL [/bin/bash -c]',
      'CMD ["/bin/bash" "-c" "run-a"]',
      'ENTRYPOINT ["ep"]',
      'MAINTAINER me',
      'RUN |1 V=1 /bin/bash -c echo a # buildkit',
      'COPY /o /o # buildkit',
      'ADD b.tgz /b/ # buildkit',
      'RUN /bin/bash -c echo c # buildkit',
    ]);
  });

  test('a stage read by COPY --from as the target has its own history only', async () => {
    const r = await convert(STAGES, { target: 'other' });
    expect(r.image.history?.map((h) => h.created_by)).toEqual(['ENV O=1', 'RUN /bin/sh -c echo other > /o # buildkit', 'COPY o.txt /o/ # buildkit']);
  });
});

describe('base image inheritance through the image resolver', () => {
  const base: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    created: '2024-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/bin:/bin', 'LANG=C.UTF-8'], WorkingDir: '/home/app', User: 'app', Cmd: ['sh'], OnBuild: ['RUN echo from base', 'COPY --chown=app onbuild.txt /x'] },
    rootfs: { type: 'layers', diff_ids: ['sha256:' + '1'.repeat(64)] },
    history: [{ created_by: '/bin/sh -c #(nop) ADD file:abc in /' }],
  };
  const calls: [string, string][] = [];
  const resolver: ImageResolver = async (ref, opts) => {
    calls.push([ref, `${opts.platform.os}/${opts.platform.architecture}`]);
    return ref === 'docker.io/library/base:1' ? base : undefined;
  };

  test('Env, WORKDIR, USER, history and layers are inherited; ONBUILD triggers run after FROM', async () => {
    const r = await convert('FROM base:1\nRUN echo mine\n', { imageResolver: resolver });
    expect(calls).toContainEqual(['docker.io/library/base:1', 'linux/amd64']);
    const trig = byName(r, 'ONBUILD RUN echo from base');
    expect(trig.metadata.description).toBe('[2/4] ONBUILD RUN echo from base');
    expect(trig.metadata.locations[0]?.startLine).toBe(1);
    expect(execOf(trig).meta).toMatchObject({ cwd: '/home/app', user: 'app', env: ['PATH=/usr/bin:/bin', 'LANG=C.UTF-8'] });
    expect(byName(r, 'ONBUILD COPY').metadata.description).toBe('[3/4] ONBUILD COPY --chown=app onbuild.txt /x');
    expect(byName(r, 'RUN echo mine').metadata.description).toBe('[4/4] RUN echo mine');
    expect(r.image.config.OnBuild).toBeUndefined();
    expect(r.image.config.Cmd).toEqual(['sh']);
    expect(r.image.created).toBeUndefined();
    expect(r.image.rootfs.diff_ids).toEqual(base.rootfs.diff_ids);
    expect(r.image.history?.map((h) => h.created_by)).toEqual([
      '/bin/sh -c #(nop) ADD file:abc in /',
      'RUN /bin/sh -c echo from base # buildkit',
      'COPY --chown=app onbuild.txt /x # buildkit',
      'RUN /bin/sh -c echo mine # buildkit',
    ]);
    // triggered COPY reads the context: it is in the followpaths
    expect(byName(r, 'load build context').op.kind).toBe('source');
  });

  test('ONBUILD of a base stage fires in the stage built FROM it', async () => {
    const r = await convert('FROM alpine AS base\nONBUILD RUN echo trig\nRUN echo base\nFROM base\nRUN echo child\n');
    expect(byName(r, '[stage-1 1/2] ONBUILD RUN echo trig').inputs[0]?.digest).toBe(byName(r, 'RUN echo base').digest);
    expect(r.image.config.OnBuild).toBeUndefined();
    const base = await convert('FROM alpine AS base\nONBUILD RUN echo trig\nRUN echo base\nFROM base\n', { target: 'base' });
    expect(base.image.config.OnBuild).toEqual(['RUN echo trig']);
    expect(vertices(base).some((v) => v.metadata.description.includes('trig'))).toBe(false);
  });

  test('an invalid trigger in a base image is a located error at FROM', async () => {
    const bad: ImageResolver = async () => ({ ...base, config: { OnBuild: ['FROM evil'] } });
    await expect(convert('ARG X\nFROM base:1\n', { imageResolver: bad })).rejects.toMatchObject({ code: 'DOCKERFILE_BAD_ONBUILD', location: { line: 2 } });
  });

  test('a config without layers is scratch; an unknown one starts empty with a warning', async () => {
    const empty: ImageResolver = async () => ({ architecture: 'amd64', os: 'linux', config: { Env: ['A=1'] }, rootfs: { type: 'layers', diff_ids: [] } });
    const r = await convert('FROM nothing\nRUN true\n', { imageResolver: empty });
    const run = byName(r, 'RUN true');
    expect(run.inputs).toEqual([]);
    expect(execOf(run).meta?.env).toContain('A=1');
    const u = await convert('FROM unknown\nRUN true\n', { imageResolver: async () => undefined });
    expect(u.warnings.map((w) => w.code)).toContain('BaseImageNotResolved');
    expect(u.image.config.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  });

  test('resolver failures are located at FROM', async () => {
    const failing: ImageResolver = async () => { throw new Error('registry unreachable'); };
    await expect(convert('FROM alpine\n', { imageResolver: failing })).rejects.toMatchObject({ code: 'DOCKERFILE_BAD_FROM', message: expect.stringContaining('registry unreachable'), location: { line: 1 } });
  });
});
