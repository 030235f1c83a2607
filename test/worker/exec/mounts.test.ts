/** RUN mounts in a running container: bind (ro, rw-discard, persist), tmpfs, secret, ssh, stubs. */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { describeIf } from '../../helpers/skip.js';
import { canRunContainers, makeExecFixture, mountsUnder, whyNot } from './fixture.js';
import type { ExecFixture } from './fixture.js';

describeIf(canRunContainers, whyNot, 'RUN mounts', () => {
  let f: ExecFixture;
  let src: string;
  beforeEach(async () => {
    f = await makeExecFixture();
    src = join(f.dir, 'src');
    await mkdir(src);
    await writeFile(join(src, 'in.txt'), 'from host\n');
  });
  afterEach(async () => {
    await f.dispose();
  });

  test('bind is read-only by default', async () => {
    const out = await f.run(['/bin/sh', '-c', 'cat /mnt/in.txt; touch /mnt/new 2>&1 || echo denied'], {
      mounts: [{ kind: 'bind', source: src, target: '/mnt' }],
    });
    expect(out.stdout).toMatch(/^from host\n(.*Read-only file system\n)?denied\n$/);
    expect(await readdir(src)).toEqual(['in.txt']);
    await f.assertClean();
  });

  test('bind rw: writes are possible but discarded', async () => {
    const out = await f.run(['/bin/sh', '-c', 'echo changed > /mnt/in.txt; echo x > /mnt/new; cat /mnt/in.txt /mnt/new; echo y > /one.txt; cat /one.txt'], {
      mounts: [
        { kind: 'bind', source: src, target: '/mnt', writes: 'discard' },
        { kind: 'bind', source: join(src, 'in.txt'), target: '/one.txt', writes: 'discard' },
      ],
    });
    expect(out.stdout).toBe('changed\nx\ny\n');
    expect(await readdir(src)).toEqual(['in.txt']);
    expect(await readFile(join(src, 'in.txt'), 'utf8')).toBe('from host\n');
    await f.assertClean();
  });

  test('bind persist: writes land in the source (cache and output mounts)', async () => {
    await f.run(['/bin/sh', '-c', 'echo kept > /mnt/new'], { mounts: [{ kind: 'bind', source: src, target: '/mnt', writes: 'persist' }] });
    expect(await readFile(join(src, 'new'), 'utf8')).toBe('kept\n');
  });

  test('tmpfs: writable, size-limited, gone afterwards', async () => {
    const out = await f.run(['/bin/sh', '-c', [
      'grep " /scratch " /proc/mounts | cut -d" " -f3',
      'echo hi > /scratch/f && cat /scratch/f',
      'dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>/dev/null && echo fit || echo full',
    ].join('; ')], { mounts: [{ kind: 'tmpfs', target: '/scratch', sizeBytes: 1024 * 1024 }] });
    expect(out.stdout).toBe('tmpfs\nhi\nfull\n');
    expect(existsSync(join(f.rootfs, 'scratch'))).toBe(false);
    await f.assertClean();
  });

  test('secret: a read-only file with the requested owner and mode, never in the rootfs', async () => {
    const out = await f.run(['/bin/sh', '-c', [
      'cat /run/secrets/token; echo',
      'stat -c "%a %u %g" /run/secrets/token',
      'cat /etc/app-key; echo',
      'stat -c "%a %u %g" /etc/app-key',
      'echo x >> /etc/app-key 2>/dev/null && echo writable || echo ro',
      'grep -c s3cr3t /proc/mounts || true',
    ].join('; ')], {
      user: 'app',
      mounts: [
        { kind: 'secret', target: '/run/secrets/token', data: Buffer.from('s3cr3t'), mode: 0o400, uid: 1000, gid: 1000 },
        { kind: 'secret', target: '/etc/app-key', data: Buffer.from('k3y'), mode: 0o440, uid: 0, gid: 2000 },
      ],
    });
    expect(out.stdout).toBe('s3cr3t\n400 1000 1000\nk3y\n440 0 2000\nro\n0\n');
    // The stubs (/run, /run/secrets, /run/secrets/token, /etc/app-key) are gone; the secret tmpfs too.
    expect(existsSync(join(f.rootfs, 'run'))).toBe(false);
    expect(existsSync(join(f.rootfs, 'etc', 'app-key'))).toBe(false);
    expect(mountsUnder(f.dir)).toEqual([]);
    await f.assertClean();
  });

  test('secret env: the value reaches the process but never the disk (config.json is on the tmpfs)', async () => {
    let onDisk: string[] | undefined;
    let tmpfsMounts: string[] = [];
    const out = await f.run(['/bin/sh', '-c', 'echo "token=$TOKEN"; sleep 0.3'], {
      secretEnv: { TOKEN: 'env-s3cr3t' },
      onLog: () => {
        // While the container runs: search every file of the data root outside the secret tmpfs.
        tmpfsMounts = mountsUnder(f.root);
        try {
          onDisk = execFileSync('grep', ['-rl', '--exclude-dir=secrets', 'env-s3cr3t', f.root], { encoding: 'utf8' }).split('\n').filter((x) => x !== '');
        } catch (e) {
          // grep exits 1 when nothing matches: the good case.
          onDisk = (e as { status?: number }).status === 1 ? [] : [`grep failed: ${String(e)}`];
        }
      },
    });
    expect(out.stdout).toBe('token=env-s3cr3t\n');
    expect(onDisk).toEqual([]);
    expect(tmpfsMounts).toHaveLength(1);
    expect(tmpfsMounts[0]).toMatch(/\/tmp\/exec-[^/]+\/secrets$/);
    await f.assertClean();
  });

  test('ssh: a proxy socket with owner and mode, forwarding to the agent, SSH_AUTH_SOCK set', async () => {
    // A stand-in agent: answers every line with "agent:" + the line.
    const agentPath = join(f.dir, 'agent.sock');
    const agent: Server = createServer((c) => c.on('data', (b) => c.write(`agent:${b.toString()}`)));
    await new Promise<void>((r) => agent.listen(agentPath, r));
    // The client is the host's perl (Debian's perl-base), run with the host /usr bound read-only.
    await symlink('usr/lib', join(f.rootfs, 'lib'));
    await symlink('usr/lib64', join(f.rootfs, 'lib64'));
    try {
      const out = await f.run(['/bin/sh', '-c', [
        'echo $SSH_AUTH_SOCK',
        'stat -c "%F %a %u %g" $SSH_AUTH_SOCK',
        `/usr/bin/perl -MIO::Socket::UNIX -e '$s = IO::Socket::UNIX->new(Peer => $ENV{SSH_AUTH_SOCK}) or die "connect: $!"; print $s "ping\\n"; print scalar <$s>'`,
      ].join('; ')], {
        user: 'app',
        mounts: [
          { kind: 'bind', source: '/usr', target: '/usr', writes: 'deny' },
          { kind: 'ssh', target: '/run/buildkit/ssh_agent.0', socketPath: agentPath, mode: 0o600, uid: 1000, gid: 1000 },
        ],
      });
      expect(out.stdout).toBe('/run/buildkit/ssh_agent.0\nsocket 600 1000 1000\nagent:ping\n');
    } finally {
      await new Promise((r) => agent.close(r));
    }
    await f.assertClean();
  });

  test('mountpoint stubs are removed, existing paths and what the process wrote are kept', async () => {
    await mkdir(join(f.rootfs, 'existing'));
    const etcBefore = await stat(join(f.rootfs, 'etc'));
    await f.run(['/bin/sh', '-c', 'echo w > /deep/written.txt'], {
      mounts: [
        { kind: 'tmpfs', target: '/a/b/c' },
        { kind: 'tmpfs', target: '/existing' },
        { kind: 'tmpfs', target: '/deep/mnt' },
        { kind: 'bind', source: join(src, 'in.txt'), target: '/etc/conf/in.txt', writes: 'deny' },
      ],
    });
    expect(existsSync(join(f.rootfs, 'a'))).toBe(false);
    expect(existsSync(join(f.rootfs, 'etc', 'conf'))).toBe(false);
    expect(existsSync(join(f.rootfs, 'existing'))).toBe(true);
    expect(await readdir(join(f.rootfs, 'deep'))).toEqual(['written.txt']);
    // The process did not touch /etc: it keeps its timestamps although we created and removed /etc/conf.
    // (utimes goes through float seconds and libuv keeps microseconds: "the same" is within a few µs.)
    expect(Math.abs((await stat(join(f.rootfs, 'etc'))).mtimeMs - etcBefore.mtimeMs)).toBeLessThan(0.005);
    await f.assertClean();
  });

  test('untouched parents get their timestamps back after stub removal', async () => {
    const etc = join(f.rootfs, 'etc');
    const past = new Date('2020-01-02T03:04:05Z');
    const { utimes } = await import('node:fs/promises');
    await utimes(etc, past, past);
    await f.run(['/bin/true'], { mounts: [{ kind: 'tmpfs', target: '/etc/conf.d' }] });
    expect(existsSync(join(etc, 'conf.d'))).toBe(false);
    expect((await stat(etc)).mtime.toISOString()).toBe(past.toISOString());
  });

  test('bad mounts are one clear error each', async () => {
    await expect(f.run(['true'], { mounts: [{ kind: 'tmpfs', target: 'relative' }] })).rejects.toMatchObject({ code: 'INVALID_MOUNT' });
    await expect(f.run(['true'], { mounts: [{ kind: 'tmpfs', target: '/' }] })).rejects.toMatchObject({ code: 'INVALID_MOUNT' });
    await expect(f.run(['true'], { mounts: [{ kind: 'bind', source: join(f.dir, 'missing'), target: '/m', writes: 'deny' }] }))
      .rejects.toMatchObject({ code: 'INVALID_MOUNT', message: `bind mount source ${join(f.dir, 'missing')} does not exist` });
    await f.assertClean();
  });
});
