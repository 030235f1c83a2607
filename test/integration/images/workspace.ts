/**
 * A scratch area for the image and cache-command tests: data roots, build contexts and archives
 * under one temp dir, the real CLI (dist/) run against a chosen root, and the busybox base image
 * imported the way users do it. cleanup() unmounts anything a crashed build left and removes it all.
 * The registry tests' RegistryWorld extends it with a registry behind a fault proxy.
 */
import { expect } from '@jest/globals';
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeBusyboxTar } from '../../helpers/busybox.js';
import { runTsbuild, type CliOptions, type CliResult } from '../../helpers/cli.js';
import { unmountAndRemove } from '../../helpers/dockerd.js';

export class TsbuildFailed extends Error {
  constructor(readonly args: readonly string[], readonly result: CliResult) {
    // The error line first: CI reports cut long messages in the middle.
    const lastError = result.stderr.trim().split('\n').filter((l) => /error|fail/i.test(l)).at(-1) ?? '';
    super(`tsbuild ${args.join(' ')} exited with ${result.code ?? result.signal}: ${lastError}\n${`${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-30).join('\n')}`);
    this.name = 'TsbuildFailed';
  }
}

export class Workspace {
  private busyboxTar: string | undefined;

  protected constructor(readonly dir: string) {}

  static async create(label: string): Promise<Workspace> {
    return new Workspace(await mkdtemp(join(tmpdir(), `tsbuild-${label}-`)));
  }

  /** A data root (created lazily by tsbuild itself). */
  root(name: string): string {
    return join(this.dir, 'roots', name);
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** `tsbuild --root ROOT ARGS`, whatever its exit code. */
  run(root: string, args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
    return runTsbuild(['--root', this.root(root), ...args], { timeoutMs: 300_000, ...opts });
  }

  /** Like run(), but throws unless the command exits 0; returns the result. */
  async ok(root: string, args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
    const r = await this.run(root, args, opts);
    if (r.code !== 0) throw new TsbuildFailed(args, r);
    return r;
  }

  /** The reproducible busybox rootfs tar (made once per workspace). */
  async busybox(): Promise<string> {
    if (!this.busyboxTar) {
      const file = this.path('busybox.tar');
      await makeBusyboxTar(file);
      this.busyboxTar = file;
    }
    return this.busyboxTar;
  }

  /** `tsbuild image import busybox.tar NAME` on a root. */
  async importBusybox(root: string, name = 'busybox'): Promise<void> {
    await this.ok(root, ['image', 'import', await this.busybox(), name]);
  }

  /** A build context directory with a Dockerfile and extra files. */
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

  /** Builds and exports the result's filesystem to a fresh directory; returns it. */
  async buildToDir(root: string, contextDir: string, extra: readonly string[] = []): Promise<{ dir: string; result: CliResult }> {
    const dir = await mkdtemp(join(this.dir, 'out-'));
    const result = await this.ok(root, ['build', '--progress', 'plain', ...extra, '-o', `type=local,dest=${dir}`, contextDir]);
    return { dir, result };
  }

  /**
   * The manifest each stored name points at (full name → digest), read from the root's metadata
   * database: docker shows no local manifest digest (its DIGEST column is the RepoDigest).
   */
  storedManifests(root: string): Map<string, string> {
    const db = new Database(join(this.root(root), 'metadata.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT name, manifest_digest FROM images').all() as { name: string; manifest_digest: string }[];
      return new Map(rows.map((r) => [r.name, r.manifest_digest]));
    } finally {
      db.close();
    }
  }

  /** Names of the blobs in a root's content store, sorted. */
  async blobs(root: string): Promise<string[]> {
    const d = join(this.root(root), 'content', 'blobs', 'sha256');
    return existsSync(d) ? (await readdir(d)).sort() : [];
  }

  /** Entries of a root's ingest directory (unfinished writes). */
  async ingest(root: string): Promise<string[]> {
    const d = join(this.root(root), 'content', 'ingest');
    return existsSync(d) ? readdir(d) : [];
  }

  /** Overlay mounts under this workspace (must be none between commands). */
  async mounts(): Promise<string[]> {
    const info = await readFile('/proc/self/mountinfo', 'utf8');
    return info.split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(this.dir));
  }

  async cleanup(): Promise<void> {
    await unmountAndRemove(this.dir);
  }

  /** A suite's last step: removes everything, and fails if a command left a mount behind. */
  async finish(): Promise<void> {
    const leftMounted = await this.mounts();
    await this.cleanup();
    expect(leftMounted).toEqual([]);
  }
}

/** "steps: N total, C cached, E executed" from a plain-progress build. */
export function stepCounts(stderr: string): { total: number; cached: number; executed: number } {
  const m = /steps: (\d+) total, (\d+) cached, (\d+) executed/.exec(stderr);
  if (!m) throw new Error(`no step summary in build output:\n${stderr.slice(-2000)}`);
  return { total: Number(m[1]), cached: Number(m[2]), executed: Number(m[3]) };
}
