/**
 * The conversion expands `$VAR` in exactly the places the shell engineer's table
 * (src/frontend/dockerfile/shell/expansion-rules.ts) says Docker does, and nowhere else.
 */
import { describe, expect, test } from '@jest/globals';
import { INSTRUCTION_EXPANSION } from '../../../src/frontend/dockerfile/shell/expansion-rules.js';
import { byName, convert, execOf, fileOf } from './helpers.js';

const PRE = 'FROM alpine\nENV V=val P=8080 U=www D=/dst M=755\n';

describe('where variables are expanded', () => {
  test('the table covers every instruction the conversion knows', () => {
    expect(Object.keys(INSTRUCTION_EXPANSION).sort()).toEqual(['ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL', 'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);
  });

  test('expanded as words: ENV, LABEL, ARG, USER, WORKDIR, VOLUME, STOPSIGNAL, EXPOSE (split)', async () => {
    for (const k of ['ENV', 'LABEL', 'ARG', 'USER', 'WORKDIR', 'VOLUME', 'STOPSIGNAL']) expect(INSTRUCTION_EXPANSION[k as 'ENV'].args).toBe('word');
    expect(INSTRUCTION_EXPANSION.EXPOSE.args).toBe('words');
    const r = await convert(`${PRE}ENV E=$V\nLABEL $U=$V\nARG A=$V\nUSER $U\nWORKDIR /$V\nVOLUME /$V /v2\nSTOPSIGNAL SIG\${V:+TERM}\nEXPOSE $P "9090" 9091/udp\nRUN true\n`);
    const c = r.image.config;
    expect(c.Env).toContain('E=val');
    expect(c.Labels).toEqual({ www: 'val' });
    expect(execOf(byName(r, 'RUN true')).meta?.env).toContain('A=val');
    expect(c.User).toBe('www');
    expect(c.WorkingDir).toBe('/val');
    expect(c.Volumes).toEqual({ '/val': {}, '/v2': {} });
    expect(c.StopSignal).toBe('SIGTERM');
    expect(Object.keys(c.ExposedPorts ?? {})).toEqual(['8080/tcp', '9090/tcp', '9091/udp']);
  });

  test('FROM sees only global ARGs (image and --platform)', async () => {
    expect(INSTRUCTION_EXPANSION.FROM).toMatchObject({ args: 'word', scope: 'global', flags: { platform: 'word' } });
    const r = await convert('ARG IMG=busybox ARCH=arm64\nFROM --platform=linux/$ARCH $IMG\nENV IMG=nope\n');
    expect(byName(r, 'FROM').metadata.description).toBe('[1/1] FROM docker.io/library/busybox:latest');
    expect(byName(r, 'FROM').op.pb.platform?.architecture).toBe('arm64');
  });

  test('COPY/ADD: sources, dest, --chown, --chmod, ADD --checksum; not --from, not --exclude', async () => {
    expect(INSTRUCTION_EXPANSION.COPY.flags).toMatchObject({ chown: 'word', chmod: 'word', from: 'forbidden', exclude: 'none' });
    expect(INSTRUCTION_EXPANSION.ADD.flags).toMatchObject({ checksum: 'word', exclude: 'none' });
    const r = await convert(`${PRE}COPY --chown=$U --chmod=$M --exclude=$V $V $D/\n`);
    const c = fileOf(byName(r, 'COPY')).actions[0]?.copy;
    expect(c).toMatchObject({ src: '/val', dest: '/dst/', mode: 0o755, excludePatterns: ['$V'] });
    expect(c?.owner?.user?.byName?.name).toBe('www');
  });

  test('not expanded by the builder: RUN/CMD/ENTRYPOINT/HEALTHCHECK (the shell does it), SHELL, MAINTAINER, ONBUILD', async () => {
    for (const k of ['RUN', 'CMD', 'ENTRYPOINT', 'HEALTHCHECK'] as const) expect(INSTRUCTION_EXPANSION[k].args).toBe('shell');
    for (const k of ['SHELL', 'MAINTAINER'] as const) expect(INSTRUCTION_EXPANSION[k].args).toBe('none');
    expect(INSTRUCTION_EXPANSION.ONBUILD.args).toBe('deferred');
    const r = await convert(`${PRE}RUN echo $V\nCMD echo $V\nENTRYPOINT ["$V"]\nHEALTHCHECK CMD test $V\nMAINTAINER $U\nONBUILD RUN echo $V\n`);
    expect(execOf(byName(r, 'RUN echo')).meta?.args).toEqual(['/bin/sh', '-c', 'echo $V']);
    expect(r.image.config.Entrypoint).toEqual(['$V']);
    expect(r.image.config.Cmd).toEqual(['/bin/sh', '-c', 'echo $V']);
    expect(r.image.config.Healthcheck?.Test).toEqual(['CMD-SHELL', 'test $V']);
    expect(r.image.author).toBe('$U');
    expect(r.image.config.OnBuild).toEqual(['RUN echo $V']);
  });

  test('RUN --mount values are expanded; --network is not', async () => {
    expect(INSTRUCTION_EXPANSION.RUN.flags).toMatchObject({ mount: 'word', network: 'none' });
    const r = await convert(`${PRE}RUN --mount=type=cache,target=$D,id=c-$V true\n`);
    expect(execOf(byName(r, 'RUN')).mounts.find((m) => m.dest === '/dst')?.cacheOpt?.id).toBe('c-val');
  });

  test('heredocs: COPY bodies expand raw (quotes kept) unless the delimiter is quoted; RUN bodies go to the shell', async () => {
    expect(INSTRUCTION_EXPANSION.COPY.heredoc).toBe('raw');
    expect(INSTRUCTION_EXPANSION.RUN.heredoc).toBe('shell');
    const r = await convert(`${PRE}COPY <<EOF /f\n"$V" 'x'\nEOF\nRUN <<EOF\necho $V\nEOF\n`);
    const doc = byName(r, 'preparing inline document');
    expect(Buffer.from(fileOf(doc).actions[0]?.mkfile?.data ?? []).toString()).toBe('"val" \'x\'\n');
    expect(execOf(byName(r, 'RUN <<EOF')).meta?.args).toEqual(['/bin/sh', '-c', 'echo $V\n']);
  });
});
