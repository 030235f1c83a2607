/**
 * The stage of the registry integration tests: a real `docker-registry` behind the fault proxy
 * (every request recorded, faults injectable), data roots and contexts under one temp dir, the
 * real CLI (dist/), and the busybox base image pushed to the registry from a seed root. cleanup()
 * stops the registry and proxy, unmounts anything a crashed build left and removes everything.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeBusyboxTar, haveBusybox } from '../../helpers/busybox.js';
import { runTsbuild, type CliOptions, type CliResult } from '../../helpers/cli.js';
import { unmountAndRemove } from '../../helpers/dockerd.js';
import { haveRegistry, startRegistry, type StartRegistryOptions, type TestRegistry } from '../../helpers/registry.js';
import { haveBinary, isRoot } from '../../helpers/skip.js';
import { startFaultProxy, type FaultProxy, type RequestRecord } from '../../registry/fault-proxy.js';

export const canRun = isRoot && haveRegistry && haveBusybox && haveBinary('runc');
export const cannotRunWhy = 'needs root, runc, busybox-static and docker-registry (+ openssl, htpasswd)';

export class CliFailed extends Error {
  constructor(readonly args: readonly string[], readonly result: CliResult) {
    super(`tsbuild ${args.join(' ')} exited with ${result.code ?? result.signal}:\n${`${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-30).join('\n')}`);
    this.name = 'CliFailed';
  }
}

export class RegistryWorld {
  #busybox: string | undefined;

  private constructor(
    readonly dir: string,
    readonly registry: TestRegistry,
    readonly proxy: FaultProxy,
  ) {}

  static async create(label: string, opts: StartRegistryOptions = {}): Promise<RegistryWorld> {
    const dir = await mkdtemp(join(tmpdir(), `tsbuild-${label}-`));
    const registry = await startRegistry(opts);
    const proxy = await startFaultProxy(registry.host).catch(async (e: unknown) => {
      await registry.stop();
      throw e;
    });
    return new RegistryWorld(dir, registry, proxy);
  }

  /** The registry as references name it (through the proxy). */
  get host(): string {
    return this.proxy.host;
  }

  root(name: string): string {
    return join(this.dir, 'roots', name);
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  run(root: string, args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
    return runTsbuild(['--root', this.root(root), ...args], { timeoutMs: 300_000, ...opts });
  }

  async ok(root: string, args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
    const r = await this.run(root, args, opts);
    if (r.code !== 0) throw new CliFailed(args, r);
    return r;
  }

  /** Imports the busybox rootfs into `root` as `name` (no registry involved). */
  async importBusybox(root: string, name: string): Promise<void> {
    if (!this.#busybox) {
      this.#busybox = this.path('busybox.tar');
      await makeBusyboxTar(this.#busybox);
    }
    await this.ok(root, ['image', 'import', this.#busybox, name]);
  }

  /** `HOST/base/busybox:1` in the registry (pushed from a seed root); returns the reference. */
  async seedBase(): Promise<string> {
    const ref = `${this.host}/base/busybox:1`;
    await this.importBusybox('seed', ref);
    await this.ok('seed', ['push', ref]);
    return ref;
  }

  async context(name: string, dockerfile: string, files: Readonly<Record<string, string>> = {}): Promise<string> {
    const dir = this.path('contexts', name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), dockerfile);
    for (const [p, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, p)), { recursive: true });
      await writeFile(join(dir, p), content);
    }
    return dir;
  }

  /** A position in the proxy's request log; `since(mark)` gives what came after. */
  mark(): number {
    return this.proxy.requests.length;
  }

  since(mark: number): RequestRecord[] {
    return this.proxy.requests.slice(mark);
  }

  /** Digests of the blobs downloaded (GET …/blobs/<digest>, answered 200/206) after `mark`. */
  blobGets(mark: number): string[] {
    return this.since(mark).flatMap((r) => {
      const m = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/.exec(r.path);
      return r.method === 'GET' && m && (r.status === 200 || r.status === 206) ? [m[1] as string] : [];
    });
  }

  /** A blob of a root's content store, parsed as JSON (manifests, configs). */
  async storeJson<T>(root: string, digest: string): Promise<T> {
    return JSON.parse(await readFile(join(this.root(root), 'content', 'blobs', 'sha256', digest.replace(/^sha256:/, '')), 'utf8')) as T;
  }

  /** A manifest straight from the registry (not through the proxy, so it is not counted). */
  async registryManifest<T>(repoAndTag: string): Promise<T> {
    const [repo, tag] = repoAndTag.split(':') as [string, string];
    const res = await fetch(`${this.registry.url}/v2/${repo}/manifests/${tag}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    if (!res.ok) throw new Error(`GET manifest ${repoAndTag}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  /** Hex names of the blobs in a root's content store. */
  async blobs(root: string): Promise<string[]> {
    const d = join(this.root(root), 'content', 'blobs', 'sha256');
    return existsSync(d) ? readdir(d) : [];
  }

  /** Unfinished blob writes of a root (must be none after any command). */
  async ingest(root: string): Promise<string[]> {
    const d = join(this.root(root), 'content', 'ingest');
    return existsSync(d) ? readdir(d) : [];
  }

  async mounts(): Promise<string[]> {
    const info = await readFile('/proc/self/mountinfo', 'utf8');
    return info.split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(this.dir));
  }

  async cleanup(): Promise<void> {
    await this.proxy.stop().catch(() => undefined);
    await this.registry.stop().catch(() => undefined);
    await unmountAndRemove(this.dir);
  }
}

/** The error lines of a failed command (`error: …`). */
export function errorLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((l) => l.startsWith('error: '));
}

/** Exit code 1, exactly one `error:` line matching `pattern`, no stack trace. */
export function expectOneError(r: CliResult, pattern: RegExp): void {
  const lines = errorLines(r);
  if (r.code !== 1 || lines.length !== 1 || !pattern.test(lines[0] ?? '') || /\n\s+at .*:\d+:\d+\)?/.test(r.stderr)) {
    throw new Error(`expected exit 1 with one error line matching ${pattern}, got exit ${r.code}:\n${r.stderr}`);
  }
}
