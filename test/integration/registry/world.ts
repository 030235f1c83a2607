/**
 * The stage of the registry integration tests: a real `docker-registry` behind the fault proxy
 * (every request recorded, faults injectable), data roots and contexts under one temp dir, the
 * real CLI (dist/), and the busybox base image pushed to the registry from a seed root. cleanup()
 * stops the registry and proxy, unmounts anything a crashed build left and removes everything.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveBusybox } from '../../helpers/busybox.js';
import type { CliResult } from '../../helpers/cli.js';
import { haveRegistry, startRegistry, type StartRegistryOptions, type TestRegistry } from '../../helpers/registry.js';
import { haveBinary, isRoot } from '../../helpers/skip.js';
import { startFaultProxy, type FaultProxy, type RequestRecord } from '../../registry/fault-proxy.js';
import { Workspace } from '../images/workspace.js';

export const canRun = isRoot && haveRegistry && haveBusybox && haveBinary('runc');
export const cannotRunWhy = 'needs root, runc, busybox-static and docker-registry (+ openssl, htpasswd)';

/** A Workspace (roots, contexts, the CLI, the busybox base) plus the registry behind its proxy. */
export class RegistryWorld extends Workspace {
  private constructor(
    dir: string,
    readonly registry: TestRegistry,
    readonly proxy: FaultProxy,
  ) {
    super(dir);
  }

  static override async create(label: string, opts: StartRegistryOptions = {}): Promise<RegistryWorld> {
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

  /** `HOST/base/busybox:1` in the registry (pushed from a seed root); returns the reference. */
  async seedBase(): Promise<string> {
    const ref = `${this.host}/base/busybox:1`;
    await this.importBusybox('seed', ref);
    await this.ok('seed', ['push', ref]);
    return ref;
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

  override async cleanup(): Promise<void> {
    await this.proxy.stop().catch(() => undefined);
    await this.registry.stop().catch(() => undefined);
    await super.cleanup();
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
