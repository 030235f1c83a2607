/**
 * tsbuild through its real CLI (`dist/bin/tsbuild.cjs`, the package's bin, run as an executable from a snapshotCli copy), so every
 * figure includes process start, as a user sees it. Each builder owns one data root under the benchmark's work dir; reset
 * replaces it with a fresh one holding only the imported base image.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TsbuildError } from '../../src/util/errors.js';
import { BASE_IMAGE, cliPath } from './paths.js';
import { parseTsbuildRawJson } from './progress-parse.js';
import { CommandFailedError, runCommand, runOk } from './run-command.js';
import type { CommandResult } from './run-command.js';
import { removeRuncContainersUnder, unmountAndRemove } from './teardown.js';
import { TsbuildLayers } from './tsbuild-layers.js';
import type { BuildOutcome, BuildRequest, Builder, ImageLayer, OpOptions } from './types.js';

export interface TsbuildBuilderOptions {
  /** A directory the builder owns (created); removed by close(). */
  readonly dir: string;
  /** The busybox root filesystem tar, imported as the base image. */
  readonly baseTar: string;
  /** The CLI entry point to run (a snapshotCli copy; default dist/bin/tsbuild.cjs). */
  readonly cli?: string;
  readonly signal: AbortSignal;
}

export class TsbuildBuilder implements Builder {
  readonly name = 'tsbuild' as const;
  readonly version: string;
  readonly #dir: string;
  readonly #root: string;
  readonly #baseTar: string;
  readonly #cliPath: string;
  /** Manifest digest of the last build of each tag (from --metadata-file). */
  readonly #images = new Map<string, string>();
  readonly #layers = new TsbuildLayers(() => this.#root);
  #closed: Promise<void> | undefined;

  private constructor(opts: TsbuildBuilderOptions, version: string) {
    this.#dir = opts.dir;
    this.#root = join(opts.dir, 'root');
    this.#baseTar = opts.baseTar;
    this.#cliPath = opts.cli ?? cliPath;
    this.version = version;
  }

  static async open(opts: TsbuildBuilderOptions): Promise<TsbuildBuilder> {
    const cli = opts.cli ?? cliPath;
    if (!existsSync(cli)) throw new TsbuildError('BENCH_NOT_BUILT', `${cli} is missing: run npm run build first`);
    await mkdir(opts.dir, { recursive: true });
    const v = await runOk(process.execPath, [cli, '--version'], { signal: opts.signal, env: childEnv() });
    const b = new TsbuildBuilder(opts, `${v.stdout.trim()} (node ${process.version})`);
    try {
      await b.reset({ signal: opts.signal });
    } catch (e) {
      await b.close();
      throw e;
    }
    return b;
  }

  #cli(args: readonly string[], opts: OpOptions): Promise<CommandResult> {
    // The bin itself, as `tsbuild` runs once installed (its first line starts node).
    return runCommand(this.#cliPath, ['--root', this.#root, ...args], { signal: opts.signal, env: childEnv(), stopSignal: 'SIGINT' });
  }

  async reset(opts: OpOptions): Promise<void> {
    await this.#removeRoot();
    this.#images.clear();
    const r = await this.#cli(['image', 'import', this.#baseTar, BASE_IMAGE], opts);
    if (r.code !== 0) throw new CommandFailedError('tsbuild image import', r);
  }

  async build(req: BuildRequest, opts: OpOptions): Promise<BuildOutcome> {
    const meta = join(this.#dir, 'metadata.json');
    await rm(meta, { force: true });
    const args = ['build', '--progress=rawjson', '--network=host', '--metadata-file', meta];
    if (req.output !== undefined) args.push('-o', req.output);
    else args.push('-t', req.tag);
    if (req.noCache === true) args.push('--no-cache');
    args.push(req.contextDir);
    const r = await this.#cli(args, opts);
    if (r.code !== 0) throw new CommandFailedError(`tsbuild ${args.join(' ')}`, r);
    const digest = (JSON.parse(await readFile(meta, 'utf8')) as Record<string, unknown>)['containerimage.digest'];
    if (typeof digest === 'string') this.#images.set(req.tag, digest);
    const p = parseTsbuildRawJson(r.stderr);
    return { wallMs: r.wallMs, exportMs: p.exportMs, steps: p.steps, cachedSteps: p.cachedSteps };
  }

  layers(tag: string, opts: OpOptions): Promise<ImageLayer[]> {
    return this.#layers.of(tag, this.#images.get(tag), opts);
  }

  async #removeRoot(): Promise<void> {
    await removeRuncContainersUnder(this.#root, [join(this.#root, 'runc')]);
    await unmountAndRemove(this.#root);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#removeRoot();
      await unmountAndRemove(this.#dir);
    })();
    return this.#closed;
  }
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  delete env['TSBUILD_ROOT'];
  delete env['TSBUILD_ADDR'];
  return env;
}
