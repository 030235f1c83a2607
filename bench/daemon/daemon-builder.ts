/**
 * tsbuild through its daemon, as a CI runner uses it: a private tsbuildd (own data root, unix
 * socket in the work dir) and the real CLI with `--addr`, so every figure includes the client's
 * process start, its context listing and the gRPC round trips. Reset stops the daemon, replaces
 * its data root with one holding only the imported base image (embedded CLI) and starts it again;
 * with `warm`, it then runs one tiny unrelated build (`FROM` the base, `RUN echo warm`), because the
 * Docker daemon a cold build is compared with is warm too: its process has built before, and its
 * base image is unpacked in its image store.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TsbuildError } from '../../src/util/errors.js';
import { BASE_IMAGE } from '../lib/paths.js';
import { parseTsbuildRawJson } from '../lib/progress-parse.js';
import { CommandFailedError, runCommand, runOk } from '../lib/run-command.js';
import type { CommandResult } from '../lib/run-command.js';
import { removeRuncContainersUnder, unmountAndRemove } from '../lib/teardown.js';
import { TsbuildLayers } from '../lib/tsbuild-layers.js';
import { startTsbuildd } from '../lib/tsbuildd.js';
import type { PrivateTsbuildd } from '../lib/tsbuildd.js';
import type { BuildOutcome, BuildRequest, Builder, ImageLayer, OpOptions } from '../lib/types.js';

export interface DaemonBuilderOptions {
  /** A directory the builder owns (created; removed by close()). Keep its path short (socket). */
  readonly dir: string;
  readonly baseTar: string;
  /** The CLI entry point (a snapshotCli copy); tsbuildd.mjs is expected beside it. */
  readonly cli: string;
  /** After each reset, one tiny unrelated build warms the new daemon (see the header). */
  readonly warm?: boolean;
  readonly signal: AbortSignal;
}

/**
 * The environment of the CLI's runs: no NODE_OPTIONS, no tsbuild defaults, and this node first on
 * the PATH, since the CLI runs as a user runs the installed bin: the file itself, whose `#!` line
 * finds `node` through env (and passes node's flags; scripts/bundle.mjs).
 */
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` };
  delete env['TSBUILD_ROOT'];
  delete env['TSBUILD_ADDR'];
  return env;
}

export class DaemonBuilder implements Builder {
  readonly name = 'tsbuild' as const;
  readonly version: string;
  readonly cli: string;
  readonly #dir: string;
  readonly #root: string;
  readonly #baseTar: string;
  readonly #warm: boolean;
  /** Manifest digest of the last build of each tag (from --metadata-file). */
  readonly #images = new Map<string, string>();
  readonly #layers = new TsbuildLayers(() => this.#root);
  #daemon: PrivateTsbuildd | undefined;
  #closed: Promise<void> | undefined;

  private constructor(opts: DaemonBuilderOptions, version: string) {
    this.#dir = opts.dir;
    this.#root = join(opts.dir, 'root');
    this.#baseTar = opts.baseTar;
    this.#warm = opts.warm === true;
    this.cli = opts.cli;
    this.version = version;
  }

  static async open(opts: DaemonBuilderOptions): Promise<DaemonBuilder> {
    await mkdir(opts.dir, { recursive: true });
    const v = await runOk(opts.cli, ['--version'], { signal: opts.signal, env: childEnv() });
    const b = new DaemonBuilder(opts, `${v.stdout.trim()} through tsbuildd on a unix socket (node ${process.version})`);
    try {
      await b.reset({ signal: opts.signal });
    } catch (e) {
      await b.close();
      throw e;
    }
    return b;
  }

  /** The running daemon (after open/reset). */
  get daemon(): PrivateTsbuildd {
    if (!this.#daemon) throw new TsbuildError('BENCH_TSBUILDD', 'the daemon is not running');
    return this.#daemon;
  }

  get root(): string {
    return this.#root;
  }

  /** Runs the CLI against the daemon (`--addr` prepended). */
  client(args: readonly string[], opts: OpOptions): Promise<CommandResult> {
    return runCommand(this.cli, ['--addr', this.daemon.addr, ...args], { signal: opts.signal, env: childEnv(), stopSignal: 'SIGINT' });
  }

  async reset(opts: OpOptions): Promise<void> {
    await this.#stopDaemon();
    await this.#removeRoot();
    this.#images.clear();
    const r = await runCommand(this.cli, ['--root', this.#root, 'image', 'import', this.#baseTar, BASE_IMAGE], { signal: opts.signal, env: childEnv() });
    if (r.code !== 0) throw new CommandFailedError('tsbuild image import', r);
    this.#daemon = await startTsbuildd({ bin: join(dirname(this.cli), 'tsbuildd.mjs'), root: this.#root, socket: join(this.#dir, 'd.sock'), signal: opts.signal });
    if (this.#warm) {
      const ctx = join(this.#dir, 'warm');
      await mkdir(ctx, { recursive: true });
      await writeFile(join(ctx, 'Dockerfile'), `FROM ${BASE_IMAGE}\nRUN echo warm > /warm\n`);
      await this.build({ contextDir: ctx, tag: 'warm' }, opts);
    }
  }

  /** The build command line for `req` (rawjson progress, host network, metadata file). */
  buildArgs(req: BuildRequest, metadataFile: string): string[] {
    const args = ['build', '--progress=rawjson', '--network=host', '--metadata-file', metadataFile];
    if (req.output !== undefined) args.push('-o', req.output);
    else args.push('-t', req.tag);
    if (req.noCache === true) args.push('--no-cache');
    args.push(req.contextDir);
    return args;
  }

  async build(req: BuildRequest, opts: OpOptions): Promise<BuildOutcome> {
    const meta = join(this.#dir, 'metadata.json');
    await rm(meta, { force: true });
    const args = this.buildArgs(req, meta);
    const r = await this.client(args, opts);
    if (r.code !== 0) throw new CommandFailedError(`tsbuild ${args.join(' ')}`, r);
    const digest = (JSON.parse(await readFile(meta, 'utf8')) as Record<string, unknown>)['containerimage.digest'];
    if (typeof digest === 'string') this.#images.set(req.tag, digest);
    const p = parseTsbuildRawJson(r.stderr);
    return { wallMs: r.wallMs, exportMs: p.exportMs, steps: p.steps, cachedSteps: p.cachedSteps };
  }

  layers(tag: string, opts: OpOptions): Promise<ImageLayer[]> {
    return this.#layers.of(tag, this.#images.get(tag), opts);
  }

  async #stopDaemon(): Promise<void> {
    const d = this.#daemon;
    this.#daemon = undefined;
    if (d) await d.stop();
  }

  async #removeRoot(): Promise<void> {
    await removeRuncContainersUnder(this.#root, [join(this.#root, 'runc')]);
    await unmountAndRemove(this.#root);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      try {
        await this.#stopDaemon();
      } finally {
        await this.#removeRoot();
        await unmountAndRemove(this.#dir);
      }
    })();
    return this.#closed;
  }
}
