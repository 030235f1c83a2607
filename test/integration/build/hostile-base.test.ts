/**
 * A hostile base image cannot make a RUN step write on the host. Every path the runtime mounts or
 * writes before the process starts (/dev and what runc makes in it, /proc, /sys, /etc/hosts,
 * /etc/resolv.conf, /etc/hostname, RUN mount targets, the WORKDIR) is a symlink out of the rootfs
 * in one image each, pointing at a canary directory on the host; after the build the canary must
 * be exactly as it was, and the step must still have run. runc 1.1 follows an image's /dev link
 * when it creates device nodes and the /dev/ptmx, /dev/fd links (it did, before the init layer).
 */
import { describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, lstat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { makeBusyboxRootfs } from '../../helpers/busybox.js';
import { describeBuilds, useBuildEnv } from '../../helpers/build-env.js';

const run = promisify(execFile);

interface HostileCase {
  readonly name: string;
  /** Replaces `path` (relative to the rootfs) by a symlink to the canary. */
  readonly path: string;
  /** Link to the canary by an absolute path, or by `../` climbing out of the rootfs. */
  readonly link: 'absolute' | 'relative';
  /** Dockerfile lines after FROM; they must leave `/ran` behind (checked in the exported tar). */
  readonly steps: string;
  /** Build flags (e.g. secrets). */
  readonly flags?: readonly string[];
}

const RAN = 'RUN echo ran > /ran';

const CASES: readonly HostileCase[] = [
  { name: 'dev', path: 'dev', link: 'absolute', steps: RAN },
  { name: 'dev-relative', path: 'dev', link: 'relative', steps: RAN },
  { name: 'proc', path: 'proc', link: 'absolute', steps: RAN },
  { name: 'sys', path: 'sys', link: 'absolute', steps: RAN },
  { name: 'dev-pts', path: 'dev/pts', link: 'absolute', steps: RAN },
  { name: 'dev-shm', path: 'dev/shm', link: 'absolute', steps: RAN },
  { name: 'dev-mqueue', path: 'dev/mqueue', link: 'relative', steps: RAN },
  { name: 'etc', path: 'etc', link: 'absolute', steps: RAN },
  { name: 'etc-hosts', path: 'etc/hosts', link: 'absolute', steps: RAN },
  { name: 'etc-resolv', path: 'etc/resolv.conf', link: 'relative', steps: RAN },
  { name: 'etc-hostname', path: 'etc/hostname', link: 'absolute', steps: RAN },
  { name: 'workdir', path: 'w', link: 'absolute', steps: 'WORKDIR /w/sub\nRUN echo ran > /ran && echo x > here' },
  { name: 'mount-tmpfs', path: 'm', link: 'absolute', steps: 'RUN --mount=type=tmpfs,target=/m/t echo ran > /ran' },
  { name: 'mount-cache', path: 'm', link: 'relative', steps: 'RUN --mount=type=cache,target=/m/c echo ran > /ran && echo x > /m/c/f' },
  { name: 'mount-bind', path: 'm', link: 'absolute', steps: 'RUN --mount=type=bind,target=/m/b cat /m/b/Dockerfile > /dev/null && echo ran > /ran' },
  {
    name: 'mount-secret', path: 'run', link: 'absolute', flags: ['--secret', 'id=s,env=HOSTILE_SECRET'],
    steps: 'RUN --mount=type=secret,id=s,target=/run/secrets/s cat /run/secrets/s > /dev/null && echo ran > /ran',
  },
];

/** Every entry under `dir` with its type and content, to compare before and after. */
async function snapshotTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const st = await lstat(p);
      const rel = relative(dir, p);
      if (st.isDirectory()) {
        out.push(`${rel}/ ${st.mode.toString(8)}`);
        await walk(p);
      } else if (st.isFile()) out.push(`${rel} ${st.mode.toString(8)} ${await readFile(p, 'utf8')}`);
      else out.push(`${rel} special ${st.mode.toString(8)}`);
    }
  };
  await walk(dir);
  return out;
}

describeBuilds('a hostile base image cannot make RUN write on the host', () => {
  const env = useBuildEnv();

  describe.each(CASES)('$name: /$path is a $link symlink to a host directory', (c) => {
    test('the build runs and the host canary is untouched', async () => {
      const base = join(env.dir, `case-${c.name}`);
      const canary = join(base, 'canary');
      await mkdir(canary, { recursive: true });
      await writeFile(join(canary, 'keep'), 'canary\n');
      await mkdir(join(canary, 'sub'));
      const before = await snapshotTree(canary);

      const rootfs = join(base, 'rootfs');
      await makeBusyboxRootfs(rootfs);
      const linkPath = join(rootfs, c.path);
      await run('rm', ['-rf', linkPath]);
      // The relative form climbs to / (on the host; inside the rootfs `..` stops at its root).
      const target = c.link === 'absolute' ? canary : `${'../'.repeat(30)}${canary.slice(1)}`;
      await run('ln', ['-s', target, linkPath]);
      const tar = join(base, 'image.tar');
      await run('tar', ['-C', rootfs, '-cf', tar, '.']);
      const image = `localhost/hostile-${c.name}:1`;
      const imp = await env.run(['image', 'import', tar, image]);
      expect(imp.stderr).toBe('');

      const ctx = await env.context(`ctx-${c.name}`, { Dockerfile: `FROM ${image}\n${c.steps}\n` });
      const out = join(base, 'out.tar');
      const r = await env.run(['build', '--progress=plain', ...(c.flags ?? []), '-o', `type=tar,dest=${out}`, ctx], {
        env: { HOSTILE_SECRET: 'shh' },
      });
      expect({ code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(await snapshotTree(canary)).toEqual(before);

      // The step ran, and the image keeps its link: the runtime's directories are not in the layer.
      const { stdout } = await run('tar', ['-tvf', out]);
      expect(stdout).toMatch(/ \.\/ran\n/);
      const entry = stdout.split('\n').find((l) => l.endsWith(` ./${c.path} -> ${target}`));
      expect(entry).toBeDefined();
    });
  });
});
