/**
 * The real CLI through a real tsbuildd for what reaches a registry or streams an archive: `image
 * import` and `image load -i` stream the client's file, `push`/`pull` and a `build --pull` FROM an
 * htpasswd-protected registry work with credentials that only the client's docker config holds
 * (the daemon's DOCKER_CONFIG is empty: Pull/Push carry the host's credentials, Solve asks for
 * them), and without them fail with the registry's refusal; `--registry-ca` (a client file)
 * reaches a TLS registry from push, pull and build; `cache check` works; a `type=local` cache is
 * refused with a clear message instead of using a daemon path.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, busyboxTar, mountsUnder } from '../../helpers/build-env.js';
import { haveBusybox } from '../../helpers/busybox.js';
import { runTsbuild, type CliResult } from '../../helpers/cli.js';
import { startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { haveRegistry, makeSelfSignedCert, registryMissingWhy, startRegistry, type CertPair, type TestRegistry } from '../../helpers/registry.js';
import { describeIf, haveBinary, isRoot } from '../../helpers/skip.js';

const canRun = isRoot && haveBinary('runc') && haveBusybox && haveRegistry;

describeIf(canRun, `needs root, runc, busybox; ${registryMissingWhy}`, 'tsbuild --addr: registries and archives through tsbuildd', () => {
  let dir = '';
  let addr = '';
  let ctx = '';
  let clientConfig = '';
  let emptyConfig = '';
  let reg: TestRegistry | undefined;
  let tlsReg: TestRegistry | undefined;
  let cert: CertPair | undefined;
  let daemon: DaemonProcess | undefined;

  /** The CLI against the daemon, with the client's docker config (credentials) or an empty one. */
  const remote = (args: readonly string[], creds = true): Promise<CliResult> =>
    runTsbuild(['--addr', addr, ...args], { env: { DOCKER_CONFIG: creds ? clientConfig : emptyConfig, SOURCE_DATE_EPOCH: '1700000000' }, timeoutMs: 300_000 });
  const ok = async (args: readonly string[]): Promise<CliResult> => {
    const r = await remote(args);
    if (r.code !== 0) throw new Error(`tsbuild ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-cli-remote-reg-'));
    reg = await startRegistry({ auth: { kind: 'htpasswd', users: { ci: 'remote-pass' } } });
    // 127.0.0.2 is not treated as local: HTTPS, with a CA only the client's --registry-ca names.
    cert = makeSelfSignedCert(dir, 'registry', { cn: '127.0.0.2', ip: '127.0.0.2' });
    tlsReg = await startRegistry({ host: '127.0.0.2', tls: cert });
    clientConfig = join(dir, 'client-docker');
    emptyConfig = join(dir, 'daemon-docker');
    await mkdir(clientConfig);
    await mkdir(emptyConfig);
    await writeFile(join(clientConfig, 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('ci:remote-pass').toString('base64') } } }));
    ctx = join(dir, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${reg.host}/team/base:1\nRUN echo remote > /r.txt\n`);
    addr = `unix://${join(dir, 'd.sock')}`;
    daemon = await startDaemon(['--addr', addr, '--root', join(dir, 'root')], { env: { DOCKER_CONFIG: emptyConfig } });
  }, 120_000);

  afterAll(async () => {
    if (daemon) expect((await daemon.stop()).code).toBe(0);
    await reg?.stop();
    await tlsReg?.stop();
    if (dir) {
      expect(await mountsUnder(dir)).toEqual([]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('image import streams the client\'s tarball; push needs the client\'s credentials and gets them', async () => {
    await ok(['image', 'import', await busyboxTar(), BASE]);
    await ok(['tag', BASE, `${reg?.host}/team/base:1`]);
    const denied = await remote(['push', `${reg?.host}/team/base:1`], false);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(new RegExp(`^error: .*unauthorized.*; log in with: tsbuild login ${reg?.host}\n$`, 'm'));
    const pushed = await ok(['push', `${reg?.host}/team/base:1`]);
    expect(pushed.stdout).toMatch(/digest: sha256:[0-9a-f]{64} size: \d+\n$/);
  });

  test('build --pull resolves FROM at the registry with credentials the daemon asks the client for', async () => {
    const denied = await remote(['build', '--pull', '--progress', 'plain', '-t', 'remote:1', ctx], false);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(new RegExp(`unauthorized.*; log in with: tsbuild login ${reg?.host}`));
    const built = await remote(['build', '--pull', '--progress', 'plain', '-t', 'remote:1', ctx]);
    expect([built.code, built.stderr]).toEqual([0, expect.stringContaining('RUN echo remote > /r.txt')]);
  });

  test('pull through the daemon, then image load -i of a client file', async () => {
    await ok(['rmi', `${reg?.host}/team/base:1`]);
    const pulled = await ok(['pull', `${reg?.host}/team/base:1`]);
    expect(pulled.stdout).toContain(`${reg?.host}/team/base:1`);
    const archive = join(dir, 'remote.tar');
    await ok(['build', '--progress', 'quiet', '-o', `type=docker,dest=${archive},name=loaded:1`, ctx]);
    const loaded = await ok(['image', 'load', '-i', archive]);
    expect(loaded.stdout).toContain('loaded:1');
    const missing = await remote(['image', 'load', '-i', join(dir, 'nope.tar')]);
    expect([missing.code, missing.stderr]).toEqual([1, `error: open ${join(dir, 'nope.tar')}: no such file or directory\n`]);
  });

  test('--registry-ca, a client file, reaches a TLS registry from push, pull and build through the daemon', async () => {
    const name = `${tlsReg?.host}/team/base:1`;
    const ca = ['--registry-ca', cert?.certFile ?? ''];
    await ok(['tag', BASE, name]);
    const untrusted = await remote(['push', name]);
    expect(untrusted.code).toBe(1);
    await ok(['push', ...ca, name]);
    await ok(['rmi', name]);
    await ok(['pull', ...ca, name]);
    const tlsCtx = join(dir, 'tls-ctx');
    await mkdir(tlsCtx);
    await writeFile(join(tlsCtx, 'Dockerfile'), `FROM ${name}\nRUN echo tls > /t.txt\n`);
    await ok(['build', '--pull', '--progress', 'quiet', ...ca, '-t', 'tls:1', tlsCtx]);
    const noCa = await remote(['build', '--pull', '--progress', 'quiet', '-t', 'tls:1', tlsCtx]);
    expect(noCa.code).toBe(1);
  });

  test('cache check answers', async () => {
    const check = await remote(['cache', 'check']);
    expect(check.code).toBe(0);
  });
});
