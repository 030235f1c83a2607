/**
 * The store the randomized space test (space-random.test.ts) works on: one data root, a few small
 * Dockerfiles that share steps, and the operations it draws from a seeded PRNG — builds (plain,
 * --no-cache, several at once, killed with SIGKILL at a random moment), tag, rmi, prune with
 * filters, image load, push and pull against a local registry, cache export and import — each run
 * through the real CLI. It also answers what the test asserts against: the blobs the images in
 * the store reach, read straight from the database and the content store.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliResult } from '../../helpers/cli.js';
import { cliPath } from '../../helpers/paths.js';
import type { Workspace } from '../images/workspace.js';

export const ROOT = 'rand';

/** Three Dockerfiles sharing their first steps; the COPY sources change now and then. */
const DOCKERFILES: readonly string[] = [
  'FROM busybox\nRUN echo base > /base\nRUN echo a > /a\nCOPY a.txt /a.txt\n',
  'FROM busybox\nRUN echo base > /base\nRUN head -c 30000 /dev/urandom > /b\n',
  'FROM busybox\nRUN echo base > /base\nRUN echo a > /a\nCOPY c.txt /c.txt\nRUN cat /c.txt /a > /ca\n',
];

export type Rand = () => number;

export class SpaceWorld {
  readonly contexts: string[] = [];
  /** The local registry's host:port, when one runs. */
  registry: string | undefined;
  /** References pushed to it (pullable). */
  readonly pushed = new Set<string>();
  #edits = 0;

  constructor(readonly ws: Workspace, readonly rand: Rand) {}

  get root(): string {
    return this.ws.root(ROOT);
  }

  async setup(): Promise<void> {
    await this.ws.importBusybox(ROOT);
    for (const [i, df] of DOCKERFILES.entries()) {
      this.contexts.push(await this.ws.context(`ctx${i}`, df, { 'a.txt': 'a0\n', 'c.txt': 'c0\n' }));
    }
    // An archive for `image load`, made once (outside the store).
    await this.ws.ok(ROOT, ['build', '--progress', 'quiet', '-o', `type=docker,dest=${this.ws.path('load.tar')},name=loaded:1`, this.contexts[0] as string]);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)] as T;
  }

  /** Runs tsbuild on the store; throws unless it exits 0. */
  ok(args: readonly string[]): Promise<CliResult> {
    return this.ws.ok(ROOT, args);
  }

  run(args: readonly string[]): Promise<CliResult> {
    return this.ws.run(ROOT, args);
  }

  /** Names of the images in the store (dangling ones excluded), from the database. */
  imageNames(): string[] {
    return this.query<{ name: string }>('SELECT name FROM images ORDER BY name').map((r) => r.name).filter((n) => !n.startsWith('<none>@'));
  }

  /** Sometimes a context file changes, so that builds make new results next to the cached ones. */
  async maybeEdit(ctx: string): Promise<void> {
    if (this.rand() < 0.4) {
      this.#edits++;
      await writeFile(join(ctx, this.rand() < 0.5 ? 'a.txt' : 'c.txt'), `edit ${this.#edits}\n`);
    }
  }

  buildArgs(opts: { readonly noCache?: boolean; readonly tag?: string; readonly ctx: string }): string[] {
    return ['build', '--progress', 'quiet', ...(opts.noCache ? ['--no-cache'] : []), ...(opts.tag ? ['-t', opts.tag] : []), opts.ctx];
  }

  /** A build killed with SIGKILL `afterMs` after it started (maybe finished by then). */
  killedBuild(args: readonly string[], afterMs: number): Promise<{ killed: boolean }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cliPath, '--root', this.root, ...args], { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, NODE_OPTIONS: '' } });
      let exited = false;
      // The timer is what this op is about: a kill at a random moment of a build.
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, afterMs);
      child.on('error', reject);
      child.on('exit', (_code, signal) => {
        exited = true;
        clearTimeout(timer);
        resolve({ killed: signal === 'SIGKILL' });
      });
    });
  }

  /** Every blob the images in the store reach: manifests (and indexes), configs, layers. */
  async imageBlobs(): Promise<string[]> {
    const out = new Set<string>();
    const queue: string[] = [];
    for (const r of this.query<{ manifest_digest: string; config_digest: string }>('SELECT manifest_digest, config_digest FROM images')) {
      queue.push(r.manifest_digest);
      out.add(r.config_digest.slice(7));
    }
    const read = new Set<string>();
    while (queue.length > 0) {
      const d = queue.pop() as string;
      if (read.has(d)) continue;
      read.add(d);
      out.add(d.slice(7));
      const file = join(this.root, 'content', 'blobs', 'sha256', d.slice(7));
      if (!existsSync(file)) continue;
      const doc = JSON.parse(await readFile(file, 'utf8')) as { config?: { digest: string }; layers?: { digest: string }[]; manifests?: { digest: string }[] };
      if (doc.config) out.add(doc.config.digest.slice(7));
      for (const l of doc.layers ?? []) out.add(l.digest.slice(7));
      for (const m of doc.manifests ?? []) queue.push(m.digest);
    }
    return [...out].sort();
  }

  /** Rows of a table in the store's database (read-only). */
  query<T>(sql: string): T[] {
    const db = new Database(join(this.root, 'metadata.db'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  }

  async removeCacheDir(): Promise<void> {
    await rm(this.ws.path('cache-export'), { recursive: true, force: true });
  }
}
