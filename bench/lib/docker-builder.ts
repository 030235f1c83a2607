/**
 * Docker BuildKit: `DOCKER_BUILDKIT=1 /usr/bin/docker build --network=host` against a private
 * dockerd that holds the same busybox base image (`docker import`ed as localhost/busybox:latest).
 * Reset removes every image but the base and prunes the BuildKit cache (which also forgets the
 * transferred build contexts), so a cold build is cold for Docker too, without a daemon restart.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { TsbuildError } from '../../src/util/errors.js';
import { DOCKER_BIN, startDockerd } from './dockerd.js';
import type { PrivateDockerd } from './dockerd.js';
import { BASE_IMAGE } from './paths.js';
import { parseDockerPlain } from './progress-parse.js';
import { CommandFailedError, runCommand, runOk } from './run-command.js';
import type { CommandResult } from './run-command.js';
import type { BuildOutcome, BuildRequest, Builder, ImageLayer, OpOptions } from './types.js';

export interface DockerBuilderOptions {
  /** Scratch space for `docker save` output. */
  readonly dir: string;
  readonly baseTar: string;
  readonly signal: AbortSignal;
}

/** One entry of `docker save`'s manifest.json. */
interface SaveManifestEntry {
  readonly Config: string;
  readonly Layers: readonly string[];
}

export class DockerBuilder implements Builder {
  readonly name = 'docker' as const;
  readonly version: string;
  readonly #daemon: PrivateDockerd;
  readonly #dir: string;
  #closed: Promise<void> | undefined;

  private constructor(daemon: PrivateDockerd, dir: string, version: string) {
    this.#daemon = daemon;
    this.#dir = dir;
    this.version = version;
  }

  static async open(opts: DockerBuilderOptions): Promise<DockerBuilder> {
    const daemon = await startDockerd({ signal: opts.signal });
    try {
      const v = await runOk(DOCKER_BIN, ['version', '--format', 'docker {{.Server.Version}} (BuildKit embedded in dockerd)'], { signal: opts.signal, env: daemon.env });
      const b = new DockerBuilder(daemon, opts.dir, v.stdout.trim());
      await b.#docker(['import', opts.baseTar, BASE_IMAGE], opts);
      return b;
    } catch (e) {
      await daemon.stop();
      throw e;
    }
  }

  async #docker(args: readonly string[], opts: OpOptions): Promise<CommandResult> {
    return runOk(DOCKER_BIN, args, { signal: opts.signal, env: this.#daemon.env });
  }

  async reset(opts: OpOptions): Promise<void> {
    const ids = await this.#docker(['image', 'ls', '--all', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], opts);
    const drop = ids.stdout
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith(`${BASE_IMAGE} `))
      .map((l) => (l.startsWith('<none>:<none> ') ? (l.split(' ')[1] as string) : (l.split(' ')[0] as string)));
    if (drop.length > 0) await this.#docker(['image', 'rm', '--force', ...drop], opts);
    await this.#docker(['builder', 'prune', '--all', '--force'], opts);
  }

  async build(req: BuildRequest, opts: OpOptions): Promise<BuildOutcome> {
    if (req.output !== undefined) throw new TsbuildError('BENCH_UNSUPPORTED', 'docker 20.10 has no OCI output; only the image store is benchmarked');
    const args = ['build', '--network=host', '--progress=plain', '-t', req.tag];
    if (req.noCache === true) args.push('--no-cache');
    args.push(req.contextDir);
    const r = await runCommand(DOCKER_BIN, args, { signal: opts.signal, env: this.#daemon.env, stopSignal: 'SIGINT' });
    if (r.code !== 0) throw new CommandFailedError(`docker ${args.join(' ')}`, r);
    const p = parseDockerPlain(r.stderr);
    return { wallMs: r.wallMs, exportMs: p.exportMs, steps: p.steps, cachedSteps: p.cachedSteps };
  }

  async layers(tag: string, opts: OpOptions): Promise<ImageLayer[]> {
    const file = join(this.#dir, 'docker-save.tar');
    try {
      await this.#docker(['save', '-o', file, tag], opts);
      return await readSavedLayers(file, opts);
    } finally {
      await rm(file, { force: true });
    }
  }

  close(): Promise<void> {
    this.#closed ??= this.#daemon.stop();
    return this.#closed;
  }
}

/** The layers of a `docker save` archive: diff_ids from the config, sizes of the layer tars. */
async function readSavedLayers(file: string, opts: OpOptions): Promise<ImageLayer[]> {
  const sizes = new Map<string, number>();
  const json = new Map<string, string>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const name = header.name;
    if (name.endsWith('.json')) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => {
        chunks.push(c as Buffer);
      });
      stream.on('end', () => {
        json.set(name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
    } else {
      if (name.endsWith('.tar')) sizes.set(name, header.size ?? 0);
      stream.on('end', () => next());
      stream.resume();
    }
  });
  await pipeline(createReadStream(file), extract, { signal: opts.signal });
  const manifest = JSON.parse(json.get('manifest.json') ?? '[]') as SaveManifestEntry[];
  const entry = manifest[0];
  if (entry === undefined) throw new TsbuildError('BENCH_BAD_IMAGE', `docker save: no manifest.json in ${file}`);
  const config = JSON.parse(json.get(entry.Config) ?? 'null') as { rootfs?: { diff_ids?: string[] } } | null;
  const diffIds = config?.rootfs?.diff_ids ?? [];
  return entry.Layers.map((path, i) => {
    const diffId = diffIds[i];
    const tarSize = sizes.get(path);
    if (diffId === undefined || tarSize === undefined) throw new TsbuildError('BENCH_BAD_IMAGE', `docker save: layer ${path} has no diff_id or tar`);
    return { diffId, tarSize, blobSize: undefined };
  });
}
