/**
 * What used to be refused through tsbuildd, with the real CLI and real daemons on unix sockets:
 * - `--ssh`: a real ssh-agent holding a fresh key answers a RUN --mount=type=ssh through the Solve
 *   stream (a small static probe sends SSH_AGENTC_REQUEST_IDENTITIES and writes the reply); the
 *   embedded build writes the same bytes; a missing agent fails with the embedded error line.
 * - `--cache-to/--cache-from type=local`: the layout is written on the client by daemon A's build
 *   and is a valid OCI layout; a second daemon with a fresh root builds all steps from it.
 * - `save`: the archive (to a file and to `-o -`) loads into a fresh embedded root, and its
 *   manifest and config equal the embedded save of the same image.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE, busyboxTar, mountsUnder } from '../../helpers/build-env.js';
import { haveBusybox } from '../../helpers/busybox.js';
import { runTsbuild, type CliResult } from '../../helpers/cli.js';
import { startDaemon, type DaemonProcess } from '../../helpers/daemon.js';
import { normalizeTarPath, readTar } from '../../helpers/image-archive.js';
import { validateOci } from '../../helpers/oci-validate.js';
import { cliPath } from '../../helpers/paths.js';
import { describeIf, haveBinary, isRoot } from '../../helpers/skip.js';

const REF_NAME = 'org.opencontainers.image.ref.name';

/** Sends SSH_AGENTC_REQUEST_IDENTITIES (00 00 00 01 0b) to $SSH_AUTH_SOCK; prints the reply's type and length, then its bytes. */
const PROBE_C = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
static int readn(int fd, unsigned char *b, size_t n) { size_t got = 0; while (got < n) { ssize_t r = read(fd, b + got, n - got); if (r <= 0) return -1; got += (size_t)r; } return 0; }
int main(void) {
  const char *p = getenv("SSH_AUTH_SOCK");
  if (!p) { fprintf(stderr, "no SSH_AUTH_SOCK\\n"); return 2; }
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a; memset(&a, 0, sizeof a); a.sun_family = AF_UNIX; strncpy(a.sun_path, p, sizeof a.sun_path - 1);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 3; }
  unsigned char req[5] = {0, 0, 0, 1, 11};
  if (write(fd, req, 5) != 5) { perror("write"); return 4; }
  unsigned char h[4];
  if (readn(fd, h, 4)) { fprintf(stderr, "short reply\\n"); return 5; }
  size_t len = ((size_t)h[0] << 24) | ((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3];
  unsigned char *b = malloc(len + 1);
  if (len == 0 || readn(fd, b, len)) { fprintf(stderr, "short body\\n"); return 6; }
  printf("type %d len %zu\\n", b[0], len);
  fwrite(b + 1, 1, len - 1, stdout);
  return 0;
}
`;

function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (ok()) resolve();
      else if (Date.now() > end) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

/** The CLI with its stdout as bytes (for `save -o -`). */
function cliBytes(args: readonly string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath, ...args], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr: stderr.toString('utf8') });
    });
  });
}

const canRun = isRoot && haveBinary('runc') && haveBusybox && haveBinary('ssh-agent') && haveBinary('ssh-keygen') && haveBinary('ssh-add') && haveBinary('gcc');

describeIf(canRun, 'needs root, runc, busybox, openssh-client (ssh-agent, ssh-keygen, ssh-add) and gcc', 'tsbuild --addr: ssh, local caches and save through tsbuildd', () => {
  let dir = '';
  let addrA = '';
  let addrB = '';
  let agentSock = '';
  let agent: ChildProcess | undefined;
  const daemons: DaemonProcess[] = [];
  const root = (name: string): string => join(dir, name);

  const ok = async (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => {
    const r = await runTsbuild(args, { env: { SOURCE_DATE_EPOCH: '1700000000', ...env }, timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`tsbuild ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-wire-'));
    // One import copied to every root: the same base image ID, so cache keys agree across roots.
    await ok(['--root', root('base'), 'image', 'import', await busyboxTar(), BASE]);
    for (const r of ['daemon-a', 'daemon-b', 'emb', 'fresh']) execFileSync('cp', ['-a', root('base'), root(r)]);
    addrA = `unix://${join(dir, 'a.sock')}`;
    addrB = `unix://${join(dir, 'b.sock')}`;
    daemons.push(await startDaemon(['--addr', addrA, '--root', root('daemon-a')]));
    daemons.push(await startDaemon(['--addr', addrB, '--root', root('daemon-b')]));
    agentSock = join(dir, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
    await until('the ssh-agent socket', () => existsSync(agentSock));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tsbuild-wire-key', '-f', join(dir, 'key')]);
    execFileSync('ssh-add', ['-q', join(dir, 'key')], { env: { ...process.env, SSH_AUTH_SOCK: agentSock }, stdio: 'ignore' });
  }, 300_000);

  afterAll(async () => {
    for (const d of daemons) expect((await d.stop()).code).toBe(0);
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent?.once('exit', r));
      agent.kill('SIGTERM');
      await exited;
    }
    if (dir) {
      expect(await mountsUnder(dir)).toEqual([]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('--ssh default: the RUN reaches the client\'s agent through the daemon, with the bytes the embedded build gets', async () => {
    const ctx = root('ssh-ctx');
    await mkdir(ctx);
    await writeFile(join(dir, 'probe.c'), PROBE_C);
    execFileSync('gcc', ['-static', '-O2', '-o', join(ctx, 'probe'), join(dir, 'probe.c')]);
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${BASE} AS probe\nCOPY probe /probe\nRUN --mount=type=ssh /probe > /agent.out\nFROM scratch\nCOPY --from=probe /agent.out /agent.out\n`);
    const env = { SSH_AUTH_SOCK: agentSock };
    await ok(['--addr', addrA, 'build', '--progress', 'quiet', '--ssh', 'default', '-o', `type=local,dest=${root('ssh-out-d')}`, ctx], env);
    await ok(['--root', root('emb'), 'build', '--progress', 'quiet', '--ssh', 'default', '-o', `type=local,dest=${root('ssh-out-e')}`, ctx], env);
    const viaDaemon = await readFile(join(root('ssh-out-d'), 'agent.out'));
    expect(viaDaemon.toString('latin1')).toMatch(/^type 12 len \d+\n/);
    expect(viaDaemon.toString('latin1')).toContain('tsbuild-wire-key');
    expect(viaDaemon.equals(await readFile(join(root('ssh-out-e'), 'agent.out')))).toBe(true);
    // The daemon's scratch (its agent sockets) is gone once the build ends.
    expect(await readdir(join(root('daemon-a'), 'solve')).then((n) => n.filter((x) => x.startsWith('build-')))).toEqual([]);
  }, 300_000);

  test('--ssh without an agent fails as embedded does: same line, same exit code', async () => {
    const ctx = root('ssh-ctx');
    const noSock = { SSH_AUTH_SOCK: '' };
    const e1 = await runTsbuild(['--root', root('emb'), 'build', '--progress', 'quiet', '--ssh', 'default', '--no-cache', ctx], { env: noSock });
    const d1 = await runTsbuild(['--addr', addrA, 'build', '--progress', 'quiet', '--ssh', 'default', '--no-cache', ctx], { env: noSock });
    expect(e1.code).toBe(1);
    expect(e1.stderr).toMatch(/SSH_AUTH_SOCK is not set/);
    expect([d1.code, d1.stderr]).toEqual([e1.code, e1.stderr]);
    const gone = `default=${join(dir, 'no-agent.sock')}`;
    const e2 = await runTsbuild(['--root', root('emb'), 'build', '--progress', 'quiet', '--ssh', gone, '--no-cache', ctx]);
    const d2 = await runTsbuild(['--addr', addrA, 'build', '--progress', 'quiet', '--ssh', gone, '--no-cache', ctx]);
    expect(e2.code).toBe(1);
    expect(e2.stderr).toContain(`SSH agent socket ${join(dir, 'no-agent.sock')} for id "default" does not exist or is not a socket`);
    expect([d2.code, d2.stderr]).toEqual([e2.code, e2.stderr]);
  }, 300_000);

  test('--cache-to type=local through daemon A writes an OCI layout on the client; daemon B (fresh root) builds every step from it', async () => {
    const ctx = root('cache-ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${BASE}\nRUN echo one > /one\nRUN echo two > /two\n`);
    const cache = root('client-cache');
    const first = await ok(['--addr', addrA, 'build', '--progress', 'plain', '--cache-to', `type=local,dest=${cache},mode=max`, ctx]);
    expect(first.stderr).toMatch(/steps: \d+ total, \d+ cached, [1-9]\d* executed/);
    expect(validateOci('application/vnd.oci.layout.header.v1+json', await readFile(join(cache, 'oci-layout')))).toEqual([]);
    const indexBytes = await readFile(join(cache, 'index.json'));
    expect(validateOci('application/vnd.oci.image.index.v1+json', indexBytes)).toEqual([]);
    const index = JSON.parse(indexBytes.toString()) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    expect(index.manifests.map((d) => d.annotations?.[REF_NAME])).toEqual(['latest']);
    const manifestBytes = await readFile(join(cache, 'blobs', 'sha256', (index.manifests[0]?.digest ?? '').slice(7)));
    expect(validateOci('application/vnd.oci.image.manifest.v1+json', manifestBytes)).toEqual([]);
    const manifest = JSON.parse(manifestBytes.toString()) as { layers: { digest: string }[]; config: { digest: string } };
    for (const d of [manifest.config, ...manifest.layers]) expect(existsSync(join(cache, 'blobs', 'sha256', d.digest.slice(7)))).toBe(true);

    const second = await ok(['--addr', addrB, 'build', '--progress', 'plain', '--cache-from', `type=local,src=${cache}`, ctx]);
    for (const step of ['\\[1/3\\] FROM', '\\[2/3\\] RUN echo one', '\\[3/3\\] RUN echo two']) {
      expect(second.stderr).toMatch(new RegExp(`^#(\\d+) ${step}.*\\n#\\1 CACHED$`, 'm'));
    }
    // Progress names the client's directory, not the daemon's scratch copy.
    expect(second.stderr).toContain(`importing cache manifest from local cache ${cache}\n`);

    // A second export under another tag is merged in: the first entry is kept; no temp directory is left.
    // Its compression attributes reach daemon B's engine: every layer zstd, the base image's too (forced).
    await ok(['--addr', addrB, 'build', '--progress', 'quiet', '--cache-to', `type=local,dest=${cache},tag=other,compression=zstd,compression-level=5,force-compression=true`, ctx]);
    const merged = JSON.parse(await readFile(join(cache, 'index.json'), 'utf8')) as typeof index;
    expect(merged.manifests.map((d) => d.annotations?.[REF_NAME]).sort()).toEqual(['latest', 'other']);
    const other = merged.manifests.find((d) => d.annotations?.[REF_NAME] === 'other');
    const otherManifest = JSON.parse(await readFile(join(cache, 'blobs', 'sha256', (other?.digest ?? '').slice(7)), 'utf8')) as { layers: { mediaType: string }[] };
    expect(otherManifest.layers.length).toBeGreaterThan(0);
    expect(new Set(otherManifest.layers.map((l) => l.mediaType))).toEqual(new Set(['application/vnd.oci.image.layer.v1.tar+zstd']));
    expect((await readdir(dir)).filter((n) => n.includes('tsbuild-cache'))).toEqual([]);
  }, 600_000);

  test('save through the daemon: loads into a fresh root; manifest and config equal the embedded save', async () => {
    const ctx = root('save-ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), `FROM ${BASE}\nRUN echo saved > /saved.txt\n`);
    await ok(['--addr', addrA, 'build', '--progress', 'quiet', '-t', 'saved:1', ctx]);
    const viaDaemon = root('saved-d.tar');
    await ok(['--addr', addrA, 'save', '-o', viaDaemon, 'saved:1']);
    // The same store, opened embedded (two engines on one root are supported).
    const embedded = root('saved-e.tar');
    await ok(['--root', root('daemon-a'), 'save', '-o', embedded, 'saved:1']);
    const stdout = await cliBytes(['--addr', addrA, 'save', '-o', '-', 'saved:1']);
    expect([stdout.code, stdout.stderr]).toEqual([0, '']);

    const docs = async (tar: Buffer, where: string): Promise<{ manifest: string; config: string }> => {
      const entries = await readTar(tar, where, undefined);
      const text = (name: string): string => {
        const e = entries.find((x) => normalizeTarPath(x.path, where) === normalizeTarPath(name, where));
        if (!e) throw new Error(`${where}: no ${name}`);
        return e.data.toString('utf8');
      };
      const manifest = text('manifest.json');
      const config = text((JSON.parse(manifest) as { Config: string }[])[0]?.Config ?? '');
      return { manifest, config };
    };
    const e = await docs(await readFile(embedded), 'embedded');
    expect(await docs(await readFile(viaDaemon), 'daemon -o FILE')).toEqual(e);
    expect(await docs(stdout.stdout, 'daemon -o -')).toEqual(e);

    // An unknown name fails as embedded (same line, same exit code) and leaves no file.
    const e2 = await runTsbuild(['--root', root('daemon-a'), 'save', '-o', root('bad-e.tar'), 'saved:1', 'nosuch:1']);
    const d2 = await runTsbuild(['--addr', addrA, 'save', '-o', root('bad-d.tar'), 'saved:1', 'nosuch:1']);
    expect(e2.code).toBe(1);
    expect([d2.code, d2.stderr]).toEqual([e2.code, e2.stderr]);
    expect((await readdir(dir)).filter((n) => n.includes('bad-'))).toEqual([]);

    await ok(['--root', root('fresh'), 'image', 'load', '-i', viaDaemon]);
    expect((await ok(['--root', root('fresh'), 'images'])).stdout).toMatch(/^saved\s+1\s/m);
  }, 300_000);
});
