/**
 * Buildah: `buildah bud --layers` (its build cache; without it nothing is reused) with a private
 * `--root`/`--runroot` and `--storage-driver overlay`, RUN isolation `oci` (runc, like tsbuild and
 * BuildKit) unless asked for `chroot`. The base image is made the only way that works offline
 * here: `buildah from scratch` + `buildah add` of the busybox tar + `buildah commit`.
 * $TMPDIR points into the builder's dir, so runc bundles of interrupted RUNs are found and removed.
 */
import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TsbuildError } from '../../src/util/errors.js';
import { BASE_IMAGE } from './paths.js';
import { parseBuildahOutput } from './progress-parse.js';
import { CommandFailedError, runCommand, runOk } from './run-command.js';
import type { CommandResult } from './run-command.js';
import { removeRuncContainersUnder, unmountAndRemove } from './teardown.js';
import type { BuildOutcome, BuildRequest, Builder, ImageLayer, OpOptions } from './types.js';

export const BUILDAH_BIN = '/usr/bin/buildah';

export function haveBuildah(): boolean {
  return existsSync(BUILDAH_BIN);
}

export type BuildahIsolation = 'oci' | 'chroot';

export interface BuildahBuilderOptions {
  /** A directory the builder owns (created); removed by close(). */
  readonly dir: string;
  readonly baseTar: string;
  /** Default `oci`. */
  readonly isolation?: BuildahIsolation;
  readonly signal: AbortSignal;
}

interface BuildahInspect {
  readonly Manifest: string;
  readonly OCIv1: { readonly rootfs: { readonly diff_ids: readonly string[] } };
}

export class BuildahBuilder implements Builder {
  readonly name = 'buildah' as const;
  readonly version: string;
  readonly #dir: string;
  readonly #state: string;
  readonly #baseTar: string;
  readonly #isolation: BuildahIsolation;
  #closed: Promise<void> | undefined;

  private constructor(opts: BuildahBuilderOptions, version: string) {
    this.#dir = opts.dir;
    this.#state = join(opts.dir, 'storage');
    this.#baseTar = opts.baseTar;
    this.#isolation = opts.isolation ?? 'oci';
    this.version = `${version}, --isolation ${this.#isolation}`;
  }

  static async open(opts: BuildahBuilderOptions): Promise<BuildahBuilder> {
    await mkdir(opts.dir, { recursive: true });
    const v = await runOk(BUILDAH_BIN, ['--version'], { signal: opts.signal });
    const b = new BuildahBuilder(opts, v.stdout.trim());
    try {
      await b.reset({ signal: opts.signal });
    } catch (e) {
      await b.close();
      throw e;
    }
    return b;
  }

  #env(): NodeJS.ProcessEnv {
    return { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env['HOME'] ?? '/root', TMPDIR: join(this.#state, 'tmp') };
  }

  #run(args: readonly string[], opts: OpOptions): Promise<CommandResult> {
    const global = ['--root', join(this.#state, 'root'), '--runroot', join(this.#state, 'run'), '--storage-driver', 'overlay'];
    return runCommand(BUILDAH_BIN, [...global, ...args], { signal: opts.signal, env: this.#env(), stopSignal: 'SIGTERM' });
  }

  async #ok(args: readonly string[], opts: OpOptions): Promise<CommandResult> {
    const r = await this.#run(args, opts);
    if (r.code !== 0) throw new CommandFailedError(`buildah ${args.join(' ')}`, r);
    return r;
  }

  async reset(opts: OpOptions): Promise<void> {
    await this.#removeState();
    await mkdir(join(this.#state, 'tmp'), { recursive: true });
    const from = await this.#ok(['from', '--quiet', 'scratch'], opts);
    const container = from.stdout.trim();
    await this.#ok(['add', '--quiet', container, this.#baseTar, '/'], opts);
    await this.#ok(['commit', '--quiet', '--rm', container, BASE_IMAGE], opts);
  }

  async build(req: BuildRequest, opts: OpOptions): Promise<BuildOutcome> {
    if (req.output !== undefined) throw new TsbuildError('BENCH_UNSUPPORTED', 'buildah 1.28 has no OCI output for bud; only its image store is benchmarked');
    const args = ['bud', '--layers', '--isolation', this.#isolation, '--network', 'host', '-t', req.tag];
    if (req.noCache === true) args.push('--no-cache');
    args.push(req.contextDir);
    const r = await this.#run(args, opts);
    if (r.code !== 0) throw new CommandFailedError(`buildah ${args.join(' ')}`, r);
    const p = parseBuildahOutput(r);
    return { wallMs: r.wallMs, exportMs: p.exportMs, steps: p.steps, cachedSteps: p.cachedSteps };
  }

  async layers(tag: string, opts: OpOptions): Promise<ImageLayer[]> {
    const r = await this.#ok(['inspect', '--type', 'image', tag], opts);
    const info = JSON.parse(r.stdout) as BuildahInspect;
    const manifest = JSON.parse(info.Manifest) as { layers: { digest: string; size: number; mediaType: string }[] };
    return manifest.layers.map((l, i) => {
      const diffId = info.OCIv1.rootfs.diff_ids[i];
      if (diffId === undefined) throw new TsbuildError('BENCH_BAD_IMAGE', `buildah: image ${tag} has more layers than diff_ids`);
      // Buildah stores layers uncompressed: the manifest's size is the tar's.
      if (l.mediaType.includes('gzip') || l.mediaType.includes('zstd')) throw new TsbuildError('BENCH_BAD_IMAGE', `buildah: unexpected compressed layer ${l.mediaType}`);
      return { diffId, tarSize: l.size, blobSize: undefined };
    });
  }

  async #removeState(): Promise<void> {
    await removeRuncContainersUnder(this.#state, ['/run/runc']);
    await unmountAndRemove(this.#state);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#removeState();
      await unmountAndRemove(this.#dir);
    })();
    return this.#closed;
  }
}
