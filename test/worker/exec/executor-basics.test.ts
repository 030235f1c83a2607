/** The runc executor on a busybox rootfs: output, exit codes, identity, confinement, cwd, env. */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { mkdir, readdir, readFile, rm, stat, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TsbuildError } from '../../../src/util/errors.js';
import { ExecFailedError } from '../../../src/worker/exec/errors.js';
import { RuncExecutor } from '../../../src/worker/exec/runc-executor.js';
import { capabilityMask, DOCKER_DEFAULT_CAPABILITIES } from '../../../src/worker/exec/default-security.js';
import { DEFAULT_PATH } from '../../../src/worker/exec/process-env.js';
import { describeIf } from '../../helpers/skip.js';
import { canRunContainers, makeExecFixture, whyNot } from './fixture.js';
import type { ExecFixture } from './fixture.js';

describeIf(canRunContainers, whyNot, 'runc executor basics', () => {
  let f: ExecFixture;
  beforeEach(async () => {
    f = await makeExecFixture();
  });
  afterEach(async () => {
    await f.dispose();
  });

  test('streams stdout and stderr as tagged lines, in order, flushing a partial last line', async () => {
    const out = await f.run(['/bin/sh', '-c', 'echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three; printf "é-partial"']);
    expect(out.lines.map((l) => [l.stream, l.text, l.partial])).toEqual([
      [1, 'one', false],
      [2, 'two', false],
      [1, 'three', false],
      [1, 'é-partial', true],
    ]);
    const ts = out.lines.map((l) => l.timestamp);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    expect(Math.abs((ts[0] ?? 0) - Date.now())).toBeLessThan(60_000);
    await f.assertClean();
  });

  test('a non-zero exit rejects with the command, the exit code and the last lines', async () => {
    const err = await f.run(['/bin/sh', '-c', 'for i in $(seq 1 30); do echo line$i; done; sleep 0.2; echo bad >&2; exit 3']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecFailedError);
    const e = err as ExecFailedError;
    expect(e.code).toBe('EXEC_FAILED');
    expect(e.exitCode).toBe(3);
    expect(e.message).toBe('process "/bin/sh -c for i in $(seq 1 30); do echo line$i; done; sleep 0.2; echo bad >&2; exit 3" did not complete successfully: exit code: 3');
    expect(e.detail).toHaveLength(10);
    expect(e.detail[e.detail.length - 1]).toBe('bad');
    expect(e.detail[0]).toBe('line22');
    await f.assertClean();
  });

  test('a command that cannot be started is a start error, not an exit code', async () => {
    const err = await f.run(['/no/such/binary', 'arg']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecFailedError);
    expect((err as ExecFailedError).code).toBe('EXEC_START_FAILED');
    expect((err as Error).message).toMatch(/^process "\/no\/such\/binary arg" could not be started: .*no such file or directory/);
    await f.assertClean();
  });

  test('a command exiting 127 is its own failure; a runc that cannot be run is RUNC_NOT_FOUND', async () => {
    const err = await f.run(['/bin/sh', '-c', 'exit 127']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecFailedError);
    expect((err as ExecFailedError).exitCode).toBe(127);
    const noRunc = new RuncExecutor({ root: f.root, runcBinary: join(f.dir, 'no-such-runc') });
    const missing = await noRunc.run({ rootfs: f.rootfs, args: ['/bin/true'], env: [], network: 'none', signal: AbortSignal.timeout(30_000) }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TsbuildError);
    expect(missing).toMatchObject({ code: 'RUNC_NOT_FOUND', message: expect.stringContaining('is runc installed?') });
    await f.assertClean();
  });

  test('hostname, /etc/hostname and /etc/hosts with extra hosts', async () => {
    const def = await f.run(['/bin/sh', '-c', 'hostname; cat /etc/hostname']);
    expect(def.stdout).toBe('tsbuildsandbox\ntsbuildsandbox\n');
    const out = await f.run(['/bin/sh', '-c', 'hostname; cat /etc/hosts'], {
      hostname: 'builder-1',
      extraHosts: [{ host: 'registry.local', ip: '10.1.2.3' }],
    });
    expect(out.stdout).toBe('builder-1\n127.0.0.1\tlocalhost builder-1\n::1\tlocalhost ip6-localhost ip6-loopback\n10.1.2.3\tregistry.local\n');
    // The image's own (empty) files are untouched: the generated ones were bound over them.
    expect(await readFile(join(f.rootfs, 'etc', 'hosts'), 'utf8')).toBe('');
  });

  test("root gets exactly Docker's default capabilities and no new privileges; other users none", async () => {
    const root = await f.run(['/bin/sh', '-c', 'grep -E "^(CapEff|CapPrm|CapBnd|CapInh|CapAmb|NoNewPrivs)" /proc/self/status']);
    const want = capabilityMask(DOCKER_DEFAULT_CAPABILITIES).toString(16).padStart(16, '0');
    expect(want).toBe('00000000a80425fb');
    expect(root.stdout).toBe(`CapInh:\t0000000000000000\nCapPrm:\t${want}\nCapEff:\t${want}\nCapBnd:\t${want}\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\n`);
    const app = await f.run(['/bin/sh', '-c', 'grep -E "^(CapEff|CapBnd)" /proc/self/status'], { user: 'app' });
    expect(app.stdout).toBe(`CapEff:\t0000000000000000\nCapBnd:\t${want}\n`);
  });

  test('insecure mode gets the engine\'s full bounding set and no masking', async () => {
    const host = /^CapBnd:\s*(\S+)$/m.exec(await readFile('/proc/self/status', 'utf8'))?.[1];
    const out = await f.run(['/bin/sh', '-c', 'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; cat /proc/timer_list | wc -c'], { security: 'insecure' });
    const lines = out.stdout.split('\n');
    expect(lines[0]).toBe(`CapEff:\t${host}`);
    expect(lines[1]).toBe('NoNewPrivs:\t0');
    expect(Number(lines[2])).toBeGreaterThan(0);
  });

  test('seccomp: namespaces cannot be created (unshare -U would give the step every capability); insecure can', async () => {
    const probe = ['-U', '-n', '-m', '-i', '-u', '-p -f'].map((o) => `(unshare ${o} true 2>/dev/null && echo allowed || echo denied)`).join('; ');
    const sandboxed = await f.run(['/bin/sh', '-c', `${probe}; echo ordinary fork and exec work: $(echo ok)`]);
    expect(sandboxed.stdout).toBe(`${'denied\n'.repeat(6)}ordinary fork and exec work: ok\n`);
    const insecure = await f.run(['/bin/sh', '-c', '(unshare -U true && echo allowed || echo denied)'], { security: 'insecure' });
    expect(insecure.stdout).toBe('allowed\n');
  });

  test('seccomp: an ordinary busybox workload runs under the allow list', async () => {
    // One command per line: `set -e` does not stop at a failure inside an && chain.
    const script = [
      'set -e',
      'cd /tmp',
      'mkdir -p a/b',
      'echo hi > a/b/f',
      'ln -s f a/b/l',
      'ln a/b/f a/h',
      'mkfifo a/p',
      'chmod 0640 a/b/f',
      'chown 1:1 a/b/f',
      'touch -d @0 a/b/f',
      'ls -la a/b > /dev/null',
      'tar -cf t.tar a',
      'mkdir x',
      'tar -xf t.tar -C x',
      'cmp a/b/f x/a/b/f',
      'gzip -c t.tar | gunzip -c | cmp - t.tar',
      'find / -xdev -name passwd > /dev/null',
      'sort /etc/passwd > /dev/null',
      'wget --help 2>&1 | grep -q Usage',
      'ps > /dev/null',
      'id -u > /dev/null',
      'date > /dev/null',
      'hostname > /dev/null',
      'uname -a > /dev/null',
      'sleep 0.1 &',
      'wait',
      'timeout 5 sleep 0.1',
      'chroot / true',
      'renice -n 5 $$ > /dev/null',
      'echo "a b" | awk \'{print $2}\' | sed s/b/c/ | grep -q c',
      'dd if=/dev/urandom of=r bs=1k count=4 2>/dev/null',
      'md5sum r > /dev/null',
      'rm -rf a x r t.tar',
      'echo all-ok',
    ].join('\n');
    const out = await f.run(['/bin/sh', '-c', script]);
    expect(out.stdout).toBe('all-ok\n');
    expect(out.stderr).toBe('');
  });

  test("Docker's masked and read-only paths, read-only /sys, the standard /dev", async () => {
    const out = await f.run(['/bin/sh', '-c', [
      'cat /proc/timer_list | wc -c',
      'mount | grep " /proc/timer_list " | cut -d" " -f1',
      '(echo 1 > /proc/sys/vm/drop_caches) 2>/dev/null && echo sys-writable || echo sys-ro',
      'touch /sys/x 2>/dev/null && echo sysfs-writable || echo sysfs-ro',
      'ls /dev | tr "\\n" " "',
    ].join('; ')]);
    const [timers, timersMount, procSys, sysfs, dev] = out.stdout.split('\n');
    expect(timers).toBe('0');
    expect(timersMount).toMatch(/^(devtmpfs|tmpfs|udev)$/);
    expect(procSys).toBe('sys-ro');
    expect(sysfs).toBe('sysfs-ro');
    for (const d of ['full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'tty', 'urandom', 'zero']) expect(dev?.split(' ')).toContain(d);
  });

  test("device nodes can be made, but only BuildKit's devices opened: /dev/console (5:1) is refused", async () => {
    // BuildKit's RUN allows what runc adds to "deny all": null, zero, full, random, urandom, tty,
    // ptmx, pts, tun. A node for the host's console made with CAP_MKNOD must stay closed.
    const out = await f.run(['/bin/sh', '-c', [
      'mknod /n c 1 3 && mknod /c c 5 1 && echo made',
      '(: > /n) 2>/dev/null && echo null-opened || echo null-refused',
      '(: > /c) 2>/dev/null && echo console-opened || echo console-refused',
      'rm -f /n /c',
    ].join('; ')]);
    expect(out.stdout.split('\n').filter((l) => l !== '')).toEqual(['made', 'null-opened', 'console-refused']);
  });

  test('a rootfs whose /dev, /proc or /sys is a symlink is refused before runc follows it out', async () => {
    const canary = join(f.dir, 'canary');
    await mkdir(canary);
    for (const d of ['dev', 'proc', 'sys']) {
      await rm(join(f.rootfs, d), { recursive: true, force: true });
      await symlink(canary, join(f.rootfs, d));
      await expect(f.run(['/bin/true'])).rejects.toThrow(`refusing to run: /${d} in the container filesystem is a symbolic link to ${JSON.stringify(canary)}`);
      expect(await readdir(canary)).toEqual([]);
      await unlink(join(f.rootfs, d));
      await mkdir(join(f.rootfs, d));
    }
    await f.assertClean();
  });

  test('a missing working directory is created (root, 0755) and kept', async () => {
    const out = await f.run(['/bin/sh', '-c', 'pwd'], { cwd: '/work/dir/sub', user: 'app' });
    expect(out.stdout).toBe('/work/dir/sub\n');
    const st = await stat(join(f.rootfs, 'work', 'dir', 'sub'));
    expect(st.isDirectory()).toBe(true);
    expect(st.mode & 0o7777).toBe(0o755);
    expect(st.uid).toBe(0);
  });

  test('a working directory with `..` creates every directory it names, as runc\'s MkdirAll', async () => {
    const out = await f.run(['/bin/sh', '-c', 'pwd'], { cwd: '/dd/x/../y/./z/..' });
    expect(out.stdout).toBe('/dd/y\n');
    for (const p of [['dd', 'x'], ['dd', 'y', 'z']]) {
      const st = await stat(join(f.rootfs, ...p));
      expect(st.isDirectory()).toBe(true);
      expect(st.mode & 0o7777).toBe(0o755);
    }
  });

  test('default PATH and HOME, image env kept, later duplicates win, secret env added', async () => {
    const def = await f.run(['/bin/sh', '-c', 'echo "$PATH|$HOME"'], { user: 'app' });
    expect(def.stdout).toBe(`${DEFAULT_PATH}|/home/app\n`);
    const out = await f.run(['/bin/sh', '-c', 'echo "$PATH|$HOME|$A|$TOKEN"'], {
      env: ['PATH=/bin', 'HOME=/custom', 'A=1', 'A=2'],
      secretEnv: { TOKEN: 's3cret' },
    });
    expect(out.stdout).toBe('/bin|/custom|2|s3cret\n');
  });

  test('the command runs as pid 1 in its own pid namespace', async () => {
    const out = await f.run(['/bin/sh', '-c', 'echo $$; ps -o pid | wc -l']);
    expect(out.stdout.split('\n')[0]).toBe('1');
  });

  test('bad requests are rejected before anything runs', async () => {
    await expect(f.run([])).rejects.toMatchObject({ code: 'INVALID_EXEC_REQUEST' });
    await expect(f.run(['true'], { cwd: 'relative' })).rejects.toMatchObject({ code: 'INVALID_EXEC_REQUEST' });
    await expect(f.run(['true'], { hostname: 'bad host' })).rejects.toMatchObject({ code: 'INVALID_EXEC_REQUEST' });
    await expect(f.run(['true'], { rootfs: join(f.dir, 'nope') })).rejects.toMatchObject({ code: 'INVALID_EXEC_REQUEST' });
    await f.assertClean();
  });
});
