/**
 * The seccomp filter of a sandboxed RUN, compared with Docker's: the probe program
 * (test/worker/exec/seccomp-probe.c) tries ~100 system calls in a RUN step built by Docker 20.10
 * (`DOCKER_BUILDKIT=1 docker build` on a private dockerd) and by tsbuild's CLI, from the same
 * context and base image; every call must have the same outcome on both, errno included (EPERM from
 * the filter, ENOSYS past its end, the kernel's own EINVAL/EBADF/EFAULT when the filter lets the
 * call through). `RUN --security=insecure` has no filter: Docker 20.10's built-in frontend lacks the
 * flag, so there the reference is `docker run` with the same capabilities (the engine's bounding set;
 * `--privileged` would ask for capabilities this host's bounding set lacks) and no seccomp profile.
 *
 * Needs root, dockerd, busybox-static, gcc with a static libc, and a built CLI (`npm run build`).
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownBoundingCapabilities } from '../../src/worker/exec/default-security.js';
import { haveBusybox } from '../helpers/busybox.js';
import { dockerdMissingWhy, haveDockerd, startDockerd } from '../helpers/dockerd.js';
import type { Dockerd } from '../helpers/dockerd.js';
import { canBuildProbe, compileProbe, parseProbeOutput, probeDifferences, probeMissingWhy } from '../helpers/seccomp-probe.js';
import { describeIf } from '../helpers/skip.js';
import { makeBaseTar } from './harness/suite.js';
import { TsbuildBuilder } from './harness/tsbuild-side.js';
import { BASE_IMAGE } from './harness/types.js';

const why = !haveBusybox ? 'needs busybox-static' : !canBuildProbe ? probeMissingWhy : dockerdMissingWhy;

/** The probe's output lands in /probe.txt of a scratch stage, exported with `-o type=local`. */
function dockerfile(runFlags: string): string {
  return [
    `FROM ${BASE_IMAGE}`,
    'COPY probe /probe',
    `RUN ${runFlags}/probe > /probe.txt`,
    'FROM scratch',
    'COPY --from=0 /probe.txt /',
    '',
  ].join('\n');
}

describeIf(haveDockerd && haveBusybox && canBuildProbe, why, 'seccomp: a RUN step makes the same system calls under tsbuild as under docker build', () => {
  let dir: string;
  let dockerd: Dockerd;
  let base: Awaited<ReturnType<typeof makeBaseTar>>;
  let tsbuild: TsbuildBuilder;
  let context: string;
  let seq = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-seccomp-probe-'));
    context = join(dir, 'context');
    await mkdir(context);
    await compileProbe(context);
    await writeFile(join(context, 'Dockerfile.sandbox'), dockerfile(''));
    await writeFile(join(context, 'Dockerfile.insecure'), dockerfile('--security=insecure '));
    base = await makeBaseTar();
    dockerd = await startDockerd();
    await dockerd.dockerOk(['import', base.file, BASE_IMAGE]);
    tsbuild = new TsbuildBuilder({ baseTar: base.file });
    await tsbuild.init();
  }, 180_000);

  afterAll(async () => {
    await tsbuild?.close();
    await dockerd?.stop();
    await base?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  const outDir = (): string => join(dir, `out-${seq++}`);

  const dockerBuild = async (name: string): Promise<Map<string, string>> => {
    const out = outDir();
    await dockerd.dockerOk(['build', '--network=host', '--progress=plain', '-f', join(context, name), '-o', `type=local,dest=${out}`, context]);
    return parseProbeOutput(await readFile(join(out, 'probe.txt'), 'utf8'));
  };

  const tsbuildBuild = async (name: string, extra: readonly string[] = []): Promise<Map<string, string>> => {
    const out = outDir();
    await tsbuild.run(['build', '--network=host', '--progress=plain', ...extra, '-f', join(context, name), '-o', `type=local,dest=${out}`, context]);
    return parseProbeOutput(await readFile(join(out, 'probe.txt'), 'utf8'));
  };

  test('sandboxed RUN: every probed call has the same outcome (allowed or refused, and the errno)', async () => {
    const [d, t] = await Promise.all([dockerBuild('Dockerfile.sandbox'), tsbuildBuild('Dockerfile.sandbox')]);
    // The probe really ran and the filter really refused things on the Docker side.
    expect(d.size).toBeGreaterThan(90);
    expect(d.get('unshare_newuser')).toBe('errno=1');
    expect(d.get('clone_plain')).toBe('ok');
    expect(probeDifferences(d, t, ['docker', 'tsbuild'])).toEqual([]);
    // The step ran under the filter compiled once and loaded by tsbuild-run-init (the first RUN of a
    // data root waits for its capture), not one runc compiled: src/worker/exec/seccomp-preload.ts.
    expect((await readdir(join(tsbuild.root, 'seccomp'))).filter((n) => n.endsWith('.bpf'))).toHaveLength(1);
  }, 300_000);

  test('RUN --security=insecure: no filter, namespaces can be created; the same outcomes as an unconfined docker run', async () => {
    const t = await tsbuildBuild('Dockerfile.insecure', ['--allow', 'security.insecure']);
    for (const call of ['unshare_newuser', 'unshare_newns', 'clone_newuser', 'clone_newns', 'personality_addr_no_randomize', 'kcmp_self']) {
      expect(`${call} ${t.get(call) ?? 'missing'}`).toBe(`${call} ok`);
    }
    expect(t.get('setns_badfd')).toBe('errno=9'); // EBADF: the kernel saw the call
    expect(t.get('nr_400_unassigned')).toBe('errno=38'); // the kernel's ENOSYS, not a filter's EPERM
    // Docker 20.10 does not know the three newest capabilities; CAP_SYS_ADMIN covers what they grant here.
    const unknownToDocker = ['CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE'];
    const caps = (await ownBoundingCapabilities()).filter((c) => !unknownToDocker.includes(c)).flatMap((c) => ['--cap-add', c]);
    const d = parseProbeOutput(await dockerd.dockerOk([
      'run', '--rm', '--network=host', '--cap-drop=ALL', ...caps, '--security-opt', 'seccomp=unconfined',
      '-v', `${join(context, 'probe')}:/probe:ro`, BASE_IMAGE, '/probe',
    ]));
    expect(probeDifferences(d, t, ['docker-unconfined', 'tsbuild-insecure'])).toEqual([]);
  }, 300_000);
});
