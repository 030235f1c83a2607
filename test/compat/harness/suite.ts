/**
 * Runs cases on a builder: prepares each case's context once (both sides build from the same
 * directory), builds the cases a case needs first and publishes them, and memoises every build so a
 * case needed by several others is built once per side.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBusyboxTar } from '../../helpers/busybox.js';
import { prepareCase } from './context.js';
import type { BuildOptions, BuiltImage, Builder, CaseSpec, PreparedCase } from './types.js';

/** Prepared contexts shared by the sides of one test file; cleanup() removes them all. */
export class ContextPool {
  private readonly prepared = new Map<string, Promise<PreparedCase>>();

  get(spec: CaseSpec, opts: BuildOptions = {}): Promise<PreparedCase> {
    let p = this.prepared.get(spec.name);
    if (!p) {
      p = prepareCase(spec, opts);
      this.prepared.set(spec.name, p);
    }
    return p;
  }

  async cleanup(): Promise<void> {
    const all = [...this.prepared.values()];
    this.prepared.clear();
    for (const p of await Promise.allSettled(all)) if (p.status === 'fulfilled') await p.value.cleanup();
  }
}

/** A needed case failed, so the case that needs it cannot be built on this side. */
export class NeededCaseError extends Error {
  readonly code = 'COMPAT_NEEDED_CASE_FAILED';
  constructor(side: string, caseName: string, need: string, cause: unknown) {
    super(`${side}: ${caseName} needs ${need}, which failed: ${(cause as Error).message ?? String(cause)}`, { cause });
    this.name = 'NeededCaseError';
  }
}

export class SideRunner {
  private readonly built = new Map<string, Promise<BuiltImage>>();
  private readonly published = new Map<string, Promise<void>>();

  constructor(
    readonly builder: Builder,
    private readonly cases: ReadonlyMap<string, CaseSpec>,
    private readonly contexts: ContextPool,
  ) {}

  /** The case's image on this side, built (with what it needs) on first request. */
  ensure(name: string, opts: BuildOptions = {}): Promise<BuiltImage> {
    let p = this.built.get(name);
    if (!p) {
      p = this.buildCase(name, opts);
      this.built.set(name, p);
    }
    return p;
  }

  private async buildCase(name: string, opts: BuildOptions): Promise<BuiltImage> {
    const spec = this.cases.get(name);
    if (!spec) throw new Error(`unknown case ${name}`);
    for (const need of spec.needs) {
      try {
        await this.publishOnce(need, opts);
      } catch (e) {
        throw new NeededCaseError(this.builder.side, name, need, e);
      }
    }
    return this.builder.build(await this.contexts.get(spec, opts), opts);
  }

  private publishOnce(name: string, opts: BuildOptions): Promise<void> {
    let p = this.published.get(name);
    if (!p) {
      p = (async () => {
        const built = await this.ensure(name, opts);
        const spec = this.cases.get(name) as CaseSpec;
        await this.builder.publish(await this.contexts.get(spec, opts), built, opts);
      })();
      this.published.set(name, p);
    }
    return p;
  }
}

/** The busybox base rootfs tar both sides import, in its own temp dir (removed by cleanup()). */
export async function makeBaseTar(): Promise<{ readonly file: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-compat-base-'));
  const file = join(dir, 'busybox.tar');
  try {
    await makeBusyboxTar(file);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return { file, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
