/**
 * Registry benchmark: push and pull of a 5-layer image (default 500 MB of incompressible layer
 * data: five RUN layers of 100 MB on the busybox base) to and from a local `docker-registry`,
 * tsbuild through its real CLI, side by side with `docker push` / `docker pull` against a private
 * dockerd when docker is installed:
 *
 * - push, cold: the registry is empty (restarted with fresh storage before each run);
 * - push, warm: every blob is already there (tsbuild: one HEAD per blob, then the manifest);
 * - pull, cold: an empty data root (docker: after `rmi` of the image);
 * - pull, warm: every layer already in the local store.
 *
 *   npm run build && node dist/bench/registry/run.js [--runs 3] [--mb 500] [--tools tsbuild,docker] [--dir /tmp] [--keep]
 *
 * Figures are medians of N runs: wall time of the tool's process (start-up included) and MB/s over
 * the image's blob bytes. Docker compresses layers while pushing (its store keeps them
 * uncompressed); tsbuild pushes the gzip blobs its export already made, so the cold-push columns
 * compare "push what the build produced" end to end. Needs root.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/util/errors.js';
import { choiceList, parseFlags, positiveInt } from '../lib/args.js';
import { makeBaseTar } from '../lib/base-image.js';
import { benchMain } from '../lib/bench-main.js';
import { snapshotCli } from '../lib/cli-snapshot.js';
import { DOCKER_BIN, haveDocker, startDockerd, type PrivateDockerd } from '../lib/dockerd.js';
import { BASE_IMAGE } from '../lib/paths.js';
import { bytes, loadLine, machineLine, median, say, seconds, table } from '../lib/report.js';
import { runOk, type CommandResult } from '../lib/run-command.js';
import { unmountAndRemove } from '../lib/teardown.js';
import { withWorkDir } from '../lib/work-dir.js';
import { startBenchRegistry, type BenchRegistry } from './registry-server.js';

const USAGE = 'usage: node dist/bench/registry/run.js [--runs N] [--mb MB] [--tools tsbuild,docker] [--dir DIR] [--keep]';
const TOOLS = ['tsbuild', 'docker'] as const;
type Tool = (typeof TOOLS)[number];
const CASES = ['push, cold', 'push, warm', 'pull, cold', 'pull, warm'] as const;
type Case = (typeof CASES)[number];

interface Env {
  readonly work: string;
  readonly cli: string;
  readonly registry: BenchRegistry;
  readonly signal: AbortSignal;
}

function tsbuild(env: Env, root: string, args: readonly string[]): Promise<CommandResult> {
  return runOk(process.execPath, [env.cli, '--root', join(env.work, 'roots', root), ...args], {
    signal: env.signal, env: { ...process.env, NODE_OPTIONS: '' }, stopSignal: 'SIGINT',
  });
}

/** The image: the busybox base plus five RUN layers of random bytes. Returns its blob bytes. */
async function buildImage(env: Env, baseTar: string, mb: number, name: string): Promise<{ blobBytes: number; dockerTar: string }> {
  await tsbuild(env, 'src', ['image', 'import', baseTar, BASE_IMAGE]);
  const per = Math.max(1, Math.round(mb / 5));
  const lines = [`FROM ${BASE_IMAGE}`, ...[1, 2, 3, 4, 5].map((i) => `RUN head -c ${per}m /dev/urandom > /layer${i}`)];
  const ctx = join(env.work, 'context');
  await mkdir(ctx, { recursive: true });
  await writeFile(join(ctx, 'Dockerfile'), `${lines.join('\n')}\n`);
  const iid = join(env.work, 'iid');
  const dockerTar = join(env.work, 'image-docker.tar');
  await tsbuild(env, 'src', ['build', '--progress', 'quiet', '-t', name, '--iidfile', iid, '-o', 'type=image', '-o', `type=docker,dest=${dockerTar}`, ctx]);
  const digest = (await readFile(iid, 'utf8')).trim();
  const manifest = JSON.parse(await readFile(join(env.work, 'roots', 'src', 'content', 'blobs', 'sha256', digest.slice(7)), 'utf8')) as { layers: { size: number }[]; config: { size: number } };
  return { blobBytes: manifest.layers.reduce((n, l) => n + l.size, manifest.config.size), dockerTar };
}

async function benchTsbuild(env: Env, name: string, runs: number): Promise<Map<Case, number[]>> {
  const out = new Map<Case, number[]>(CASES.map((c) => [c, []]));
  for (let i = 0; i < runs; i++) {
    await env.registry.restart(env.signal);
    out.get('push, cold')?.push((await tsbuild(env, 'src', ['push', '-q', name])).wallMs);
    out.get('push, warm')?.push((await tsbuild(env, 'src', ['push', '-q', name])).wallMs);
    const root = `pull-${i}`;
    out.get('pull, cold')?.push((await tsbuild(env, root, ['pull', '-q', name])).wallMs);
    out.get('pull, warm')?.push((await tsbuild(env, root, ['pull', '-q', name])).wallMs);
    await unmountAndRemove(join(env.work, 'roots', root));
  }
  return out;
}

async function benchDocker(env: Env, d: PrivateDockerd, dockerTar: string, name: string, runs: number): Promise<Map<Case, number[]>> {
  const docker = (args: readonly string[]): Promise<CommandResult> => runOk(DOCKER_BIN, args, { signal: env.signal, env: d.env, stopSignal: 'SIGTERM' });
  const loaded = (await docker(['load', '-i', dockerTar])).stdout;
  const source = /Loaded image: (\S+)/.exec(loaded)?.[1] ?? /Loaded image ID: (\S+)/.exec(loaded)?.[1];
  if (!source) throw new Error(`docker load printed no image:\n${loaded}`);
  const out = new Map<Case, number[]>(CASES.map((c) => [c, []]));
  for (let i = 0; i < runs; i++) {
    await env.registry.restart(env.signal);
    await docker(['tag', source, name]);
    out.get('push, cold')?.push((await docker(['push', '-q', name])).wallMs);
    out.get('push, warm')?.push((await docker(['push', '-q', name])).wallMs);
    // Cold pull: the daemon must not hold the layers, so every image naming them goes first.
    await docker(['rmi', '-f', name, source]);
    out.get('pull, cold')?.push((await docker(['pull', '-q', name])).wallMs);
    out.get('pull, warm')?.push((await docker(['pull', '-q', name])).wallMs);
    await docker(['rmi', '-f', name]);
    await docker(['load', '-i', dockerTar]);
  }
  return out;
}

async function main(signal: AbortSignal): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), USAGE, {
    runs: { type: 'string', help: 'runs per measurement; the median is reported (default 3)' },
    mb: { type: 'string', help: 'MB of layer data, split over 5 layers (default 500)' },
    tools: { type: 'string', help: 'tools to compare (default tsbuild,docker)' },
    dir: { type: 'string', help: `parent of the temp work dir (default ${tmpdir()})` },
    keep: { type: 'boolean', help: 'keep the work dir (for debugging; default: removed)' },
  });
  const runs = positiveInt(flags, 'runs', 3);
  const mb = positiveInt(flags, 'mb', 500);
  const tools = choiceList(flags, 'tools', TOOLS);
  if (!tools.includes('tsbuild')) throw new UsageError('--tools must include tsbuild');
  if (process.getuid?.() !== 0) throw new UsageError('run as root: tsbuild builds the image with overlay mounts and runc');

  say(`tsbuild bench/registry: push and pull of a 5-layer image (${mb} MB of layer data); ${runs} runs per measurement (medians)`);
  say(`machine: ${machineLine()}`);
  await withWorkDir({ parent: typeof flags['dir'] === 'string' ? flags['dir'] : tmpdir(), prefix: 'tsbuild-bench-registry-', keep: flags['keep'] === true }, async (work) => {
    const registry = await startBenchRegistry(join(work, 'registry'), signal);
    let dockerd: PrivateDockerd | undefined;
    try {
      const env: Env = { work, cli: await snapshotCli(join(work, 'cli'), { signal }), registry, signal };
      const name = `${registry.host}/bench/image:1`;
      say('building the image…');
      const img = await buildImage(env, await makeBaseTar(work, { signal }), mb, name);
      say(`image: ${bytes(img.blobBytes)} of blobs (gzip; random data does not compress)`);
      const startup: number[] = [];
      for (let i = 0; i < runs; i++) startup.push((await runOk(process.execPath, [env.cli, '--version'], { signal, env: { ...process.env, NODE_OPTIONS: '' } })).wallMs);
      say(`tsbuild process start-up (tsbuild --version): ${seconds(median(startup))}, included in every tsbuild figure`);
      const results = new Map<Tool, Map<Case, number[]>>();
      results.set('tsbuild', await benchTsbuild(env, name, runs));
      if (tools.includes('docker')) {
        if (!haveDocker()) say('docker: not installed, skipped');
        else {
          dockerd = await startDockerd({ signal });
          const v = await runOk(DOCKER_BIN, ['version', '--format', '{{.Server.Version}}'], { signal, env: dockerd.env });
          say(`docker: ${v.stdout.trim()} (private dockerd; 127.0.0.1 registries are insecure by default)`);
          results.set('docker', await benchDocker(env, dockerd, img.dockerTar, `${registry.host}/bench/docker:1`, runs));
        }
      }
      const mbps = (ms: number): string => `${(img.blobBytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
      const header = ['case', ...[...results.keys()].flatMap((t) => [`${t} time`, `${t} MB/s`]), ...(results.has('docker') ? ['tsbuild / docker'] : [])];
      const rows = CASES.map((c) => {
        const cells: string[] = [c];
        const med = new Map<Tool, number>();
        for (const [t, r] of results) {
          const m = median(r.get(c) ?? []);
          med.set(t, m);
          cells.push(seconds(m), mbps(m));
        }
        if (results.has('docker')) cells.push(`${((med.get('tsbuild') as number) / (med.get('docker') as number)).toFixed(2)}x`);
        return cells;
      });
      say('');
      say(table(header, rows));
      say(`(${loadLine()})`);
    } finally {
      await dockerd?.stop();
      await registry.stop();
    }
  });
}

await benchMain('bench/registry', main);
