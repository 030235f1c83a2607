/**
 * The Docker side: Docker 20.10's built-in BuildKit (`DOCKER_BUILDKIT=1 docker build
 * --network=host`) on a private dockerd, the result read back through `docker save` and flattened.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dockerd } from '../../helpers/dockerd.js';
import { flattenImageArchive, flattenLayers } from '../../helpers/fs-flatten.js';
import type { Flattened } from '../../helpers/fs-flatten.js';
import { BASE_IMAGE, imageRef } from './types.js';
import type { BuildOptions, BuiltImage, Builder, CaseSpec, PreparedCase } from './types.js';

export interface DockerBuilderOptions {
  readonly dockerd: Dockerd;
  /** The busybox rootfs tar, imported with `docker import` (no --change: tsbuild's import adds nothing either). */
  readonly baseTar: string;
}

export interface DockerBuildOptions extends BuildOptions {
  /** Build with --no-cache (a second, independent build of the same case). */
  readonly noCache?: boolean;
}

/** The case's own build flags, the same for both builders: `--build-arg`, `--add-host`, `--target`. */
export function caseBuildFlags(spec: CaseSpec): string[] {
  return [
    ...Object.entries(spec.buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    ...spec.addHosts.flatMap((h) => ['--add-host', h]),
    ...(spec.target !== undefined ? ['--target', spec.target] : []),
  ];
}

export class DockerBuilder implements Builder {
  readonly side = 'docker' as const;
  private workDir: string | undefined;
  private seq = 0;

  constructor(private readonly opts: DockerBuilderOptions) {}

  async init(o: BuildOptions = {}): Promise<void> {
    this.workDir = await mkdtemp(join(tmpdir(), 'tsbuild-compat-docker-'));
    await this.opts.dockerd.dockerOk(['import', this.opts.baseTar, BASE_IMAGE], { ...o });
  }

  private out(name: string): string {
    if (!this.workDir) throw new Error('DockerBuilder: init() first');
    return join(this.workDir, `${name}-${this.seq++}.tar`);
  }

  async build(c: PreparedCase, o: DockerBuildOptions = {}): Promise<BuiltImage> {
    const ref = imageRef(c.spec.name);
    const out = this.out(c.spec.name);
    const t0 = Date.now();
    await this.opts.dockerd.dockerOk([
      'build', '--network=host', '--progress=plain', ...(o.noCache ? ['--no-cache'] : []),
      '-f', c.dockerfile, '-t', ref, ...caseBuildFlags(c.spec), c.contextDir,
    ], { ...(o.signal ? { signal: o.signal } : {}) });
    await this.opts.dockerd.dockerOk(['save', '-o', out, ref], { ...(o.signal ? { signal: o.signal } : {}) });
    const buildMs = Date.now() - t0;
    const { archive, ...flat } = await flattenImageArchive(out, o);
    await rm(out, { force: true });
    return { side: this.side, caseName: c.spec.name, archive, flat, buildMs };
  }

  /** The image is already tagged in the daemon's store, where FROM and COPY --from find it. */
  publish(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Docker's own view of the image's filesystem: `docker export` of a created (never started)
   * container, flattened as a single layer. An independent check of how the layers apply.
   */
  async exportFilesystem(caseName: string, o: BuildOptions = {}): Promise<Flattened> {
    const out = this.out(`${caseName}-export`);
    const name = `compat-export-${caseName}-${this.seq}`;
    const so = o.signal ? { signal: o.signal } : {};
    await this.opts.dockerd.dockerOk(['create', '--name', name, '--network=none', imageRef(caseName), '/bin/true'], so);
    try {
      await this.opts.dockerd.dockerOk(['export', '-o', out, name], so);
      return await flattenLayers([await readFile(out)], { ...o, name: `docker export of ${caseName}` });
    } finally {
      await this.opts.dockerd.docker(['rm', '-f', name]);
      await rm(out, { force: true });
    }
  }

  async close(): Promise<void> {
    if (this.workDir) await rm(this.workDir, { recursive: true, force: true });
  }
}
