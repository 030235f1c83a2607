/**
 * deploy/: tsbuild itself builds the daemon image from deploy/Dockerfile (with the offline busybox
 * base instead of node, and no apt step), from a context shaped like a built checkout with only
 * production dependencies; the exported image holds a daemon that starts (with this machine's node)
 * and answers Info. The example config is accepted, and systemd accepts the unit.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { ControlService } from '../../../src/client/gen/control-grpc.js';
import { VERSION } from '../../../src/version.js';
import { parseArgs } from '../../../cmd/cli/args.js';
import { DAEMON_FLAGS, daemonOptions } from '../../../cmd/daemon/options.js';
import { BASE, describeBuilds, makeBuildEnv, type BuildEnv } from '../../helpers/build-env.js';
import { startDaemon } from '../../helpers/daemon.js';
import { connect, unary } from '../../helpers/grpc.js';
import { repoRoot } from '../../helpers/paths.js';
import { describeIf, haveBinary } from '../../helpers/skip.js';

const deploy = join(repoRoot, 'deploy');

/** A context like `npm run build && npm prune --omit=dev` leaves: bins, protos, production node_modules. */
function stageContext(dir: string): void {
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(repoRoot, f), join(dir, f));
  cpSync(join(repoRoot, 'proto'), join(dir, 'proto'), { recursive: true });
  mkdirSync(join(dir, 'dist', 'bin'), { recursive: true });
  for (const f of ['tsbuildd.mjs', 'tsbuildd.bundle.mjs', 'tsbuild.mjs', 'tsbuild.cjs', 'tsbuild-cli.cjs', 'tsbuild-engine.cjs', 'chart.umd.js']) cpSync(join(repoRoot, 'dist', 'bin', f), join(dir, 'dist', 'bin', f));
  // The native module (mount without a child process), built by `npm run build`.
  const native = join('native', 'build', 'Release', 'tsbuild_sys.node');
  mkdirSync(join(dir, dirname(native)), { recursive: true });
  cpSync(join(repoRoot, native), join(dir, native));
  // The daemon bundle's lazily loaded chunks, when it has any (scripts/bundle.mjs splits at each import()).
  const chunks = join(repoRoot, 'dist', 'bin', 'chunks');
  if (existsSync(chunks)) {
    mkdirSync(join(dir, 'dist', 'bin', 'chunks'));
    for (const f of readdirSync(chunks)) if (f.endsWith('.mjs')) cpSync(join(chunks, f), join(dir, 'dist', 'bin', 'chunks', f));
  }
  const prod = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: repoRoot, encoding: 'utf8' }).split('\n');
  for (const p of prod) {
    const rel = relative(repoRoot, p);
    // Top-level packages only; nested node_modules come with their parent.
    if (/^node_modules\/(@[^/]+\/)?[^/@]+$/.test(rel)) cpSync(p, join(dir, rel), { recursive: true });
  }
}

test('the example config is accepted as it is', async () => {
  const o = await daemonOptions(parseArgs(['--config', join(deploy, 'config.example.json')], DAEMON_FLAGS, 'tsbuildd'), '/unused');
  expect(o.addresses).toHaveLength(2);
  expect(o.tls?.caFile).toBe('/etc/tsbuild/ca.crt');
  expect(o.tokenFile).toBe('/etc/tsbuild/tokens');
  expect(readFileSync(join(repoRoot, 'docs', 'grpc.md'), 'utf8')).toContain(readFileSync(join(deploy, 'config.example.json'), 'utf8'));
});

describeIf(haveBinary('systemd-analyze'), 'needs systemd-analyze (Debian package systemd)', 'deploy/tsbuildd.service', () => {
  test('systemd accepts the unit', () => {
    // ExecStart must name an existing executable for `verify`.
    const unit = readFileSync(join(deploy, 'tsbuildd.service'), 'utf8').replace('/usr/local/bin/tsbuildd', process.execPath);
    const dir = mkdtempSync(join(tmpdir(), 'tsbuildd-unit-'));
    try {
      writeFileSync(join(dir, 'tsbuildd.service'), unit);
      const r = spawnSync('systemd-analyze', ['verify', join(dir, 'tsbuildd.service')], { encoding: 'utf8' });
      expect(r.stderr.trim()).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeBuilds('deploy/Dockerfile built by tsbuild', () => {
  let env: BuildEnv;
  beforeAll(async () => {
    env = await makeBuildEnv();
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  test('builds from a local base, and the daemon in the image answers Info', async () => {
    const ctx = join(env.dir, 'ctx');
    stageContext(ctx);
    const out = join(env.dir, 'out');
    const args = ['build', '--progress=plain', '-f', join(deploy, 'Dockerfile'), '--build-arg', `BASE=${BASE}`, '--build-arg', 'INSTALL_PACKAGES='];
    const r = await env.run([...args, '-o', `type=local,dest=${out}`, ctx], { timeoutMs: 300_000 });
    expect(r.stderr).toMatch(/DONE|CACHED/);
    expect(r.code).toBe(0);
    expect(readlinkSync(join(out, 'usr', 'local', 'bin', 'tsbuildd'))).toBe('/opt/tsbuild/dist/bin/tsbuildd.mjs');
    expect(() => readFileSync(join(out, 'opt', 'tsbuild', 'dist', 'bin', 'tsbuildd.bundle.mjs.map'))).toThrow();

    const tagged = await env.run([...args, '-t', 'localhost/tsbuildd:test', ctx], { timeoutMs: 300_000 });
    expect(tagged.code).toBe(0);
    const inspect = await env.run(['inspect', 'localhost/tsbuildd:test']);
    const cfg = (JSON.parse(inspect.stdout) as [{ Config: { Entrypoint: string[]; Cmd: string[]; Env: string[]; Volumes: Record<string, unknown> } }])[0].Config;
    expect(cfg.Entrypoint).toEqual(['/usr/local/bin/tsbuildd']);
    expect(cfg.Cmd).toEqual(['--addr', 'unix:///run/tsbuild/tsbuildd.sock']);
    expect(cfg.Env).toContain('TSBUILD_ROOT=/var/lib/tsbuild');
    expect(Object.keys(cfg.Volumes)).toEqual(['/var/lib/tsbuild']);

    // The image has no node (busybox base): run its daemon with ours, from the exported tree.
    const sock = join(env.dir, 'image-daemon.sock');
    const d = await startDaemon(['--addr', `unix://${sock}`, '--root', join(env.dir, 'daemon-root')], {}, join(out, 'opt', 'tsbuild', 'dist', 'bin', 'tsbuildd.mjs'));
    const c = connect(`unix://${sock}`);
    try {
      const info = await unary(c, ControlService.Info, {});
      expect(info.version).toBe(VERSION);
      // The image's daemon found the image's native module.
      expect(info.engine?.features).toContain('native-sys');
    } finally {
      c.close();
      expect((await d.stop()).code).toBe(0);
    }
  }, 600_000);
});
