import { describe, expect, test } from '@jest/globals';
import { tsbuild } from '../../../src/llb/gen/llb.js';
import { listAttr, LocalAttr } from '../../../src/llb/source-attrs.js';
import { byName, convert, execOf, fileOf, sourceOf, vertices } from './helpers.js';

describe('RUN', () => {
  test('shell form goes through SHELL; exec form does not; the name shows expanded variables', async () => {
    const r = await convert('FROM alpine\nENV GREETING=hi\nRUN echo "$GREETING" $UNSET\nSHELL ["/bin/ash", "-eo", "pipefail", "-c"]\nRUN echo two\nRUN ["echo", "$GREETING"]\n');
    expect(execOf(byName(r, 'RUN echo "hi"')).meta?.args).toEqual(['/bin/sh', '-c', 'echo "$GREETING" $UNSET']);
    expect(byName(r, 'RUN echo "hi"').metadata.description).toBe('[2/4] RUN echo "hi" $UNSET');
    expect(execOf(byName(r, 'echo two')).meta?.args).toEqual(['/bin/ash', '-eo', 'pipefail', '-c', 'echo two']);
    expect(execOf(byName(r, 'RUN ["echo"')).meta?.args).toEqual(['echo', '$GREETING']);
  });

  test('env, cwd, user, network, security', async () => {
    const r = await convert('FROM alpine\nENV A=1\nWORKDIR /w\nUSER nobody\nRUN --network=none --security=insecure id\n');
    const e = execOf(byName(r, 'RUN --network'));
    expect(e.meta).toMatchObject({ cwd: '/w', user: 'nobody', env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1'] });
    expect(e.network).toBe(tsbuild.llb.NetMode.NET_NONE);
    expect(e.security).toBe(tsbuild.llb.SecurityMode.INSECURE);
    const host = await convert('FROM alpine\nRUN --network=host true\nRUN --network=default true\n');
    expect(execOf(byName(host, 'network=host')).network).toBe(tsbuild.llb.NetMode.NET_HOST);
    expect(execOf(byName(host, 'network=default')).network).toBe(tsbuild.llb.NetMode.NET_UNSET);
  });

  test('--add-host entries go into every RUN of every stage, in order, and so into its digest', async () => {
    const df = 'FROM alpine AS a\nRUN one\nFROM alpine\nCOPY --from=a /x /x\nRUN two\n';
    const extraHosts = [{ host: 'db', ip: '10.1.2.3' }, { host: 'v6', ip: 'fe80::1' }];
    const r = await convert(df, { extraHosts });
    expect(execOf(byName(r, 'RUN one')).meta?.extraHosts).toEqual(extraHosts);
    expect(execOf(byName(r, 'RUN two')).meta?.extraHosts).toEqual(extraHosts);
    const none = await convert(df);
    expect(execOf(byName(none, 'RUN two')).meta?.extraHosts ?? []).toEqual([]);
    expect(byName(r, 'RUN two').digest).not.toBe(byName(none, 'RUN two').digest);
    expect(byName(r, 'RUN two').digest).not.toBe(byName(await convert(df, { extraHosts: [...extraHosts].reverse() }), 'RUN two').digest);
  });

  test('--ulimit entries and --shm-size go into every RUN (meta ulimit, a /dev/shm tmpfs mount) and so into its digest', async () => {
    const df = 'FROM alpine\nRUN --mount=type=tmpfs,target=/t one\nRUN two\n';
    const r = await convert(df, { ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }], shmSize: 128 << 20 });
    for (const name of ['RUN --mount', 'RUN two']) {
      const e = execOf(byName(r, name));
      expect(e.meta?.ulimit?.map((u) => [u.name, Number(u.soft), Number(u.hard)])).toEqual([['nofile', 1024, 2048]]);
      const shm = e.mounts.filter((m) => m.dest === '/dev/shm');
      expect(shm.map((m) => [m.mountType, Number(m.tmpfsOpt?.size)])).toEqual([[tsbuild.llb.MountType.TMPFS, 128 << 20]]);
    }
    const plain = await convert(df);
    expect(execOf(byName(plain, 'RUN two')).mounts.some((m) => m.dest === '/dev/shm')).toBe(false);
    expect(byName(r, 'RUN two').digest).not.toBe(byName(plain, 'RUN two').digest);
    expect(byName(await convert(df, { shmSize: 128 << 20 }), 'RUN two').digest).not.toBe(byName(r, 'RUN two').digest);
  });

  test('heredoc: a plain body runs with the shell; <<- chomps tabs', async () => {
    const r = await convert('FROM alpine\nRUN <<EOF\necho one\necho two\nEOF\nRUN <<-EOT\n\techo tabbed\n\tEOT\n');
    const one = byName(r, 'RUN <<EOF');
    expect(one.metadata.description).toBe('[2/3] RUN <<EOF (echo one...)');
    expect(execOf(one).meta?.args).toEqual(['/bin/sh', '-c', 'echo one\necho two\n']);
    expect(execOf(byName(r, 'RUN <<-EOT')).meta?.args).toEqual(['/bin/sh', '-c', 'echo tabbed\n']);
    expect(r.image.history?.[0]?.created_by).toBe('RUN /bin/sh -c echo one\necho two\n # buildkit');
  });

  test('heredoc with a shebang becomes a file mounted at /dev/pipes and run directly', async () => {
    const r = await convert('FROM alpine\nRUN <<EOF\n#!/usr/bin/env python3\nprint("hi")\nEOF\n');
    const e = execOf(byName(r, 'RUN <<EOF'));
    expect(e.meta?.args).toEqual(['/bin/sh', '-c', '/dev/pipes/EOF']);
    const pipe = e.mounts.find((m) => m.dest === '/dev/pipes');
    expect(pipe).toMatchObject({ readonly: true, output: -1 });
    const doc = byName(r, 'preparing inline document');
    expect(fileOf(doc).actions[0]?.mkfile).toMatchObject({ path: '/EOF', mode: 0o755 });
    expect(Buffer.from(fileOf(doc).actions[0]?.mkfile?.data ?? []).toString()).toBe('#!/usr/bin/env python3\nprint("hi")\n');
  });

  test('heredoc feeding a command: the shell gets the heredoc back', async () => {
    const r = await convert('FROM alpine\nRUN cat <<EOF > /greeting && cat <<EOT\nhello\nEOF\nworld\nEOT\n');
    expect(execOf(byName(r, 'RUN cat')).meta?.args).toEqual(['/bin/sh', '-c', 'cat <<EOF > /greeting && cat <<EOT\nhello\nEOF\nworld\nEOT']);
  });

  test('mounts of every kind', async () => {
    const r = await convert([
      'FROM alpine AS deps',
      'RUN make',
      'FROM alpine',
      'ARG CACHE=/root/.cache',
      'WORKDIR /w',
      'RUN --mount=type=cache,target=$CACHE,sharing=private,uid=1000,mode=0700 \\',
      '    --mount=type=cache,id=npm,target=/npm,from=deps,source=/seed \\',
      '    --mount=type=bind,source=src,target=rel \\',
      '    --mount=type=bind,from=deps,target=/deps,rw \\',
      '    --mount=type=tmpfs,target=/tmp,size=1m \\',
      '    --mount=type=secret,id=aws \\',
      '    --mount=type=secret,id=tok,env=TOKEN,required \\',
      '    --mount=type=secret,target=/run/s/key \\',
      '    --mount=type=ssh \\',
      '    --mount=type=ssh,id=gh,target=/ssh/gh \\',
      '    make all',
      '',
    ].join('\n'));
    const run = byName(r, 'make all');
    const e = execOf(run);
    const by = Object.fromEntries(e.mounts.map((m) => [m.dest, m]));
    expect(Object.keys(by).sort()).toEqual(['/', '/deps', '/npm', '/root/.cache', '/run/buildkit/ssh_agent.0', '/run/s/key', '/run/secrets/aws', '/ssh/gh', '/tmp', '/w/rel'].sort());
    expect(by['/root/.cache']).toMatchObject({ mountType: tsbuild.llb.MountType.CACHE, input: -1, cacheOpt: { id: '/root/.cache', sharing: tsbuild.llb.CacheSharingOpt.PRIVATE, uid: 1000, hasUid: true, mode: 0o700, hasMode: true, hasGid: false } });
    expect(by['/npm']).toMatchObject({ mountType: tsbuild.llb.MountType.CACHE, selector: '/seed', cacheOpt: { id: 'npm' } });
    expect(run.inputs[by['/npm']?.input ?? -1]?.digest).toBe(byName(r, 'RUN make').digest);
    expect(by['/w/rel']).toMatchObject({ mountType: tsbuild.llb.MountType.BIND, selector: '/src', readonly: true, output: -1 });
    expect(sourceOf(r.definition.loaded.vertices.get(run.inputs[by['/w/rel']?.input ?? -1]?.digest ?? '') as never).identifier).toBe('local://context');
    expect(by['/deps']).toMatchObject({ readonly: false, output: -1 });
    expect(by['/tmp']).toMatchObject({ mountType: tsbuild.llb.MountType.TMPFS, tmpfsOpt: { size: 1024 * 1024 } });
    expect(by['/run/secrets/aws']?.secretOpt).toMatchObject({ id: 'aws', mode: 0o400, optional: true });
    expect(by['/run/s/key']?.secretOpt).toMatchObject({ id: 'key' });
    expect(by['/run/buildkit/ssh_agent.0']?.sshOpt).toMatchObject({ id: 'default', mode: 0o600, optional: true });
    expect(by['/ssh/gh']?.sshOpt).toMatchObject({ id: 'gh' });
    expect(e.secretenv).toEqual([expect.objectContaining({ id: 'tok', name: 'TOKEN', optional: false })]);
    expect(listAttr(sourceOf(byName(r, 'load build context')).attrs, LocalAttr.followPaths)).toEqual(['src']);
    // only the root mount produces an output
    expect(run.outputs).toBe(1);
  });

  test('every vertex of a realistic build decodes and validates', async () => {
    const r = await convert('FROM node:20 AS web\nWORKDIR /app\nCOPY package*.json ./\nRUN --mount=type=cache,target=/root/.npm npm ci\nCOPY . .\nRUN npm run build\nFROM nginx:alpine\nCOPY --from=web /app/dist /usr/share/nginx/html\nEXPOSE 80\n');
    expect(vertices(r).length).toBeGreaterThan(5);
    expect(r.definition.loaded.root).toBeDefined();
  });
});
