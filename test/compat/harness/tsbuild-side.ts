/**
 * The tsbuild side, through the real CLI (dist/): `image import` of the same busybox tar, then
 * `build --network=host -f F -t NAME --build-arg K=V -o type=docker,dest=OUT.tar CTX`, read back and
 * flattened. Images that other cases build FROM also get `-o type=image`, which stores them under
 * their -t name in tsbuild's image store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTsbuild } from '../../helpers/cli.js';
import type { CliResult } from '../../helpers/cli.js';
import { unmountAndRemove } from '../../helpers/dockerd.js';
import { flattenImageArchive } from '../../helpers/fs-flatten.js';
import { caseBuildFlags } from './docker-side.js';
import { BASE_IMAGE, imageRef } from './types.js';
import type { BuildOptions, BuiltImage, Builder, PreparedCase } from './types.js';

/** A tsbuild command that failed; the message has the command line and the end of its output. */
export class TsbuildCommandError extends Error {
  readonly code = 'TSBUILD_COMMAND_FAILED';
  constructor(readonly args: readonly string[], readonly result: CliResult) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-40).join('\n');
    super(`tsbuild ${args.join(' ')} exited with ${result.code ?? result.signal}:\n${tail}`);
    this.name = 'TsbuildCommandError';
  }
}

export interface TsbuildBuilderOptions {
  readonly baseTar: string;
  /** Cases whose images later builds use (FROM / COPY --from); they are also exported to the image store. */
  readonly storeImages?: ReadonlySet<string>;
  /** Per command. Default 10 minutes. */
  readonly timeoutMs?: number;
}

export class TsbuildBuilder implements Builder {
  readonly side = 'tsbuild' as const;
  private dir: string | undefined;
  private seq = 0;

  constructor(private readonly opts: TsbuildBuilderOptions) {}

  /** The data root the CLI builds in. */
  get root(): string {
    if (!this.dir) throw new Error('TsbuildBuilder: init() first');
    return join(this.dir, 'root');
  }

  /** Runs `tsbuild --root R ARGS`; throws unless it exits 0. The signal is checked before starting. */
  async run(args: readonly string[], o: BuildOptions = {}): Promise<CliResult> {
    o.signal?.throwIfAborted();
    const full = ['--root', this.root, ...args];
    const r = await runTsbuild(full, { timeoutMs: this.opts.timeoutMs ?? 600_000 });
    if (r.code !== 0) throw new TsbuildCommandError(full, r);
    return r;
  }

  async init(o: BuildOptions = {}): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'tsbuild-compat-ts-'));
    await this.run(['image', 'import', this.opts.baseTar, BASE_IMAGE], o);
  }

  private out(name: string): string {
    return join(this.dir as string, `${name}-${this.seq++}.tar`);
  }

  async build(c: PreparedCase, o: BuildOptions = {}): Promise<BuiltImage> {
    const out = this.out(c.spec.name);
    const t0 = Date.now();
    await this.run([
      'build', '--network=host', '--progress=plain', '-f', c.dockerfile, '-t', imageRef(c.spec.name), ...caseBuildFlags(c.spec),
      '-o', `type=docker,dest=${out}`, ...(this.opts.storeImages?.has(c.spec.name) ? ['-o', 'type=image'] : []), c.contextDir,
    ], o);
    const buildMs = Date.now() - t0;
    const { archive, ...flat } = await flattenImageArchive(out, o);
    await rm(out, { force: true });
    return { side: this.side, caseName: c.spec.name, archive, flat, buildMs };
  }

  /** Nothing to do: build() stored the image (`-o type=image`) when the case is in storeImages. */
  publish(c: PreparedCase): Promise<void> {
    if (!this.opts.storeImages?.has(c.spec.name)) return Promise.reject(new Error(`tsbuild side: ${c.spec.name} is not in storeImages, so it was not stored`));
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (!this.dir) return;
    // A crashed build may leave overlay mounts in the data root; never rm through them.
    await unmountAndRemove(this.dir);
  }
}
