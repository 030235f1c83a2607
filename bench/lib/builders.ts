/**
 * Opens the tools a benchmark compares, each with private state under the work dir. A tool that is
 * not installed is reported ("docker: not installed, skipped") and left out; one that is installed
 * but fails to start is an error, since its numbers would silently be missing.
 */
import { join } from 'node:path';
import { assertNever } from '../../src/util/errors.js';
import { BuildahBuilder, haveBuildah } from './buildah-builder.js';
import type { BuildahIsolation } from './buildah-builder.js';
import { DockerBuilder } from './docker-builder.js';
import { haveDocker } from './dockerd.js';
import { TsbuildBuilder } from './tsbuild-builder.js';
import { DaemonBuilder } from '../daemon/daemon-builder.js';
import type { Builder, ToolName } from './types.js';

export interface OpenBuildersOptions {
  readonly tools: readonly ToolName[];
  /** The benchmark's work dir; each builder gets a sub-directory. */
  readonly workDir: string;
  readonly baseTar: string;
  /** tsbuild's CLI entry point (a snapshotCli copy). */
  readonly tsbuildCli: string;
  /** How tsbuild runs: its CLI with the engine in-process (default), or through a private tsbuildd. */
  readonly tsbuildMode?: 'embedded' | 'daemon';
  readonly buildahIsolation?: BuildahIsolation;
  readonly signal: AbortSignal;
  /** Where "not installed, skipped" lines go. */
  readonly log: (line: string) => void;
}

async function openOne(tool: ToolName, opts: OpenBuildersOptions): Promise<Builder | undefined> {
  const dir = join(opts.workDir, tool);
  switch (tool) {
    case 'tsbuild':
      // Warm after each reset, as Docker's daemon is (daemon-builder.ts).
      if (opts.tsbuildMode === 'daemon') return DaemonBuilder.open({ dir, baseTar: opts.baseTar, cli: opts.tsbuildCli, warm: true, signal: opts.signal });
      return TsbuildBuilder.open({ dir, baseTar: opts.baseTar, cli: opts.tsbuildCli, signal: opts.signal });
    case 'docker':
      if (!haveDocker()) return undefined;
      return DockerBuilder.open({ dir: opts.workDir, baseTar: opts.baseTar, signal: opts.signal });
    case 'buildah':
      if (!haveBuildah()) return undefined;
      return BuildahBuilder.open({ dir, baseTar: opts.baseTar, signal: opts.signal, ...(opts.buildahIsolation ? { isolation: opts.buildahIsolation } : {}) });
    default:
      return assertNever(tool, 'tool');
  }
}

/**
 * Opens every requested tool, in order. On failure the ones already open are closed before the
 * error propagates; on success the caller closes them all (closeBuilders) in a finally.
 */
export async function openBuilders(opts: OpenBuildersOptions): Promise<Builder[]> {
  const open: Builder[] = [];
  try {
    for (const tool of opts.tools) {
      const b = await openOne(tool, opts);
      if (b === undefined) opts.log(`${tool}: not installed, skipped`);
      else open.push(b);
    }
    return open;
  } catch (e) {
    await closeBuilders(open);
    throw e;
  }
}

/** Closes every builder, even when some fail; rethrows the first failure. */
export async function closeBuilders(builders: readonly Builder[]): Promise<void> {
  let first: unknown;
  for (const b of [...builders].reverse()) {
    try {
      await b.close();
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}
