import { describe, expect, test } from '@jest/globals';
import { parseDockerfile } from '../../../src/frontend/dockerfile/parse.js';
import { parseInstructions } from '../../../src/frontend/dockerfile/instructions/stages.js';
import type { Instruction, StageCommand } from '../../../src/frontend/dockerfile/instructions/instruction.js';

function typed(src: string) {
  return parseInstructions(parseDockerfile(src, { file: 'Dockerfile' }));
}

/** The commands of the only stage. */
function cmds(body: string): StageCommand[] {
  const t = typed(`FROM alpine\n${body}`);
  return [...(t.stages[0]?.commands ?? [])];
}

function one<K extends Instruction['kind']>(body: string, kind: K): Extract<Instruction, { kind: K }> {
  const c = cmds(body)[0];
  if (c?.kind !== kind) throw new Error(`expected ${kind}, got ${c?.kind}`);
  return c as Extract<Instruction, { kind: K }>;
}

describe('typed instructions', () => {
  test('stages, meta args, names, platform', () => {
    const t = typed('ARG V=1\nARG B\nFROM --platform=$BUILDPLATFORM golang:${V} AS Build\nRUN x\nFROM scratch\nCOPY --from=build /a /a\n');
    expect(t.metaArgs.flatMap((a) => a.args)).toEqual([{ key: 'V', value: '1' }, { key: 'B', value: undefined }]);
    expect(t.stages).toHaveLength(2);
    expect(t.stages[0]?.from).toMatchObject({ kind: 'FROM', image: 'golang:${V}', stageName: 'build', platform: '$BUILDPLATFORM' });
    expect(t.stages[0]?.name).toBe('build');
    expect(t.stages[1]?.name).toBeUndefined();
    expect(t.stages[1]?.commands[0]).toMatchObject({ kind: 'COPY', from: 'build', sources: ['/a'], dest: '/a' });
    expect(t.stages[0]?.from.location).toEqual({ file: 'Dockerfile', line: 3, column: 1 });
  });

  test('RUN: shell and exec form, every mount kind and option, network, security', () => {
    const r = one('RUN --network=none --security=insecure \\\n  --mount=type=cache,id=go,target=/root/.cache,sharing=locked,mode=0700,uid=1000,gid=1000 \\\n  --mount=type=bind,from=build,source=/out,dst=/in,rw \\\n  --mount=type=tmpfs,destination=/t,size=64m \\\n  --mount=type=secret,id=tok,required=true,env=TOKEN \\\n  --mount=type=ssh,id=default,required \\\n  make all', 'RUN');
    expect(r.command).toEqual({ form: 'shell', args: ['make all'] });
    expect(r.network).toBe('none');
    expect(r.security).toBe('insecure');
    expect(r.location).toEqual({ file: 'Dockerfile', line: 2, column: 1, endLine: 8 });
    const m = r.mounts.map((x) => x.mount);
    expect(m[0]).toMatchObject({ type: 'cache', id: 'go', target: '/root/.cache', sharing: 'locked', mode: 0o700, uid: 1000, gid: 1000, readonly: false });
    expect(m[1]).toMatchObject({ type: 'bind', from: 'build', source: '/out', target: '/in', readonly: false });
    expect(m[2]).toMatchObject({ type: 'tmpfs', target: '/t', size: 64 * 1024 * 1024, readonly: false });
    expect(m[3]).toMatchObject({ type: 'secret', id: 'tok', required: true, env: 'TOKEN', readonly: true });
    expect(m[4]).toMatchObject({ type: 'ssh', id: 'default', required: true });
    expect(one('RUN ["echo", "a b"]', 'RUN').command).toEqual({ form: 'exec', args: ['echo', 'a b'] });
    // bind mounts default to read-only
    expect(one('RUN --mount=target=/x,ro=false true', 'RUN').mounts[0]?.mount.readonly).toBe(false);
    expect(one('RUN --mount=target=/x true', 'RUN').mounts[0]?.mount.readonly).toBe(true);
  });

  test('mount values with variables are kept for the conversion', () => {
    const r = one('RUN --mount=type=cache,target=$DIR,uid=$UID true', 'RUN');
    expect(r.mounts[0]?.raw).toBe('type=cache,target=$DIR,uid=$UID');
    expect(r.mounts[0]?.mount).toMatchObject({ type: 'cache', target: undefined, uid: undefined });
  });

  test('COPY and ADD flags', () => {
    const c = one('COPY --from=build --chown=app:app --chmod=u=rwX,go=rX --link --parents --exclude=*.md --exclude=.git a/./b c/ /dst/', 'COPY');
    expect(c).toMatchObject({ from: 'build', chown: 'app:app', chmod: 'u=rwX,go=rX', link: true, parents: true, exclude: ['*.md', '.git'], sources: ['a/./b', 'c/'], dest: '/dst/' });
    const a = one('ADD --checksum=sha256:' + 'a'.repeat(64) + ' --keep-git-dir=true --unpack=false --chmod=0644 https://x.io/f.tgz /f', 'ADD');
    expect(a).toMatchObject({ checksum: 'sha256:' + 'a'.repeat(64), keepGitDir: true, unpack: false, chmod: '0644', link: false });
    expect(one('ADD a b', 'ADD')).toMatchObject({ keepGitDir: undefined, unpack: undefined });
    expect(one('COPY ["a b", "/c d"]', 'COPY')).toMatchObject({ sources: ['a b'], dest: '/c d' });
  });

  test('COPY heredoc sources, chomped for <<-', () => {
    const c = one('COPY <<EOF <<-"TAB" x /dst/\nhello $A\nEOF\n\tindented\nTAB\n', 'COPY');
    expect(c.sources).toEqual(['x']);
    expect(c.heredocSources).toEqual([{ path: 'EOF', data: 'hello $A\n', expand: true }, { path: 'TAB', data: 'indented\n', expand: false }]);
  });

  test('HEALTHCHECK', () => {
    const h = one('HEALTHCHECK --interval=1m30s --timeout=3s --start-period=0.5s --start-interval=100ms --retries=3 CMD curl -f http://localhost/', 'HEALTHCHECK');
    expect(h).toMatchObject({ test: ['CMD-SHELL', 'curl -f http://localhost/'], interval: 90e9, timeout: 3e9, startPeriod: 5e8, startInterval: 1e8, retries: 3 });
    expect(one('HEALTHCHECK CMD ["curl", "-f", "x"]', 'HEALTHCHECK').test).toEqual(['CMD', 'curl', '-f', 'x']);
    expect(one('HEALTHCHECK NONE', 'HEALTHCHECK')).toMatchObject({ test: ['NONE'], interval: undefined });
    expect(one('HEALTHCHECK --interval=0s CMD true', 'HEALTHCHECK').interval).toBe(0);
  });

  test('ENV, LABEL, ARG, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, SHELL, MAINTAINER, CMD, ENTRYPOINT', () => {
    expect(one('ENV A=1 B="x y"', 'ENV').pairs).toEqual([{ key: 'A', value: '1', legacy: false }, { key: 'B', value: '"x y"', legacy: false }]);
    expect(one('ENV C hello world', 'ENV').pairs).toEqual([{ key: 'C', value: 'hello world', legacy: true }]);
    expect(one('LABEL a=b "c d"=e', 'LABEL').pairs.map((p) => p.key)).toEqual(['a', '"c d"']);
    expect(one('ARG A=1 B', 'ARG').args).toEqual([{ key: 'A', value: '1' }, { key: 'B', value: undefined }]);
    expect(one('EXPOSE 80 443/tcp 53/udp 8000-8010/sctp $P', 'EXPOSE').ports).toEqual(['80', '443/tcp', '53/udp', '8000-8010/sctp', '$P']);
    expect(one('VOLUME ["/a", "/b"]', 'VOLUME').volumes).toEqual(['/a', '/b']);
    expect(one('VOLUME /c /d', 'VOLUME').volumes).toEqual(['/c', '/d']);
    expect(one('USER app:app', 'USER').user).toBe('app:app');
    expect(one('WORKDIR /src/$X', 'WORKDIR').path).toBe('/src/$X');
    expect(one('STOPSIGNAL SIGRTMIN+3', 'STOPSIGNAL').signal).toBe('SIGRTMIN+3');
    expect(one('STOPSIGNAL 9', 'STOPSIGNAL').signal).toBe('9');
    expect(one('SHELL ["/bin/bash", "-euo", "pipefail", "-c"]', 'SHELL').shell).toEqual(['/bin/bash', '-euo', 'pipefail', '-c']);
    expect(one('MAINTAINER me <me@x.io>', 'MAINTAINER').maintainer).toBe('me <me@x.io>');
    expect(one('CMD echo hi', 'CMD').command).toEqual({ form: 'shell', args: ['echo hi'] });
    expect(one('ENTRYPOINT ["/bin/app", "--serve"]', 'ENTRYPOINT').command).toEqual({ form: 'exec', args: ['/bin/app', '--serve'] });
  });

  test('ONBUILD keeps the trigger text and types the trigger', () => {
    const o = one('ONBUILD RUN make && make install', 'ONBUILD');
    expect(o.expression).toBe('RUN make && make install');
    expect(o.trigger).toMatchObject({ kind: 'RUN', command: { form: 'shell', args: ['make && make install'] } });
    const h = one('ONBUILD RUN <<EOF\necho from heredoc\nEOF\n', 'ONBUILD');
    expect(h.expression).toBe('RUN <<EOF\necho from heredoc\nEOF');
  });

  test('keywords are case-insensitive', () => {
    expect(cmds('run echo\ncopy a b\nWorkDir /x').map((c) => c.kind)).toEqual(['RUN', 'COPY', 'WORKDIR']);
  });

  test('instructions of every stage are typed, not only the target', () => {
    expect(() => typed('FROM a AS unused\nCOPY --chmodd=1 a b\nFROM b\n')).toThrow(/unknown flag --chmodd/);
  });
});
