/**
 * Export of one big layer: `RUN head -c SIZE /dev/urandom > /big.bin` (1 GiB by default; random,
 * so compression cannot shrink it and gzip costs its worst), built cold, timing the export step as
 * each tool reports it: tsbuild's "exporting to …" vertex (rawjson), Docker's "exporting to image"
 * step, Buildah's COMMIT to exit. tsbuild is measured twice: into its image store (like the other
 * two) and as `-o type=oci,dest=…` (a tarball the size of the layer written on top).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BASE_IMAGE } from '../lib/paths.js';
import { seconds } from '../lib/report.js';
import type { BuildOutcome, Builder } from '../lib/types.js';

export interface ExportResult {
  /** Tool name, plus the output for tsbuild's OCI-tarball variant. */
  readonly label: string;
  readonly runs: readonly BuildOutcome[];
}

interface Variant {
  readonly label: string;
  readonly builder: Builder;
  readonly output: string | undefined;
}

export async function benchExport(opts: {
  readonly builders: readonly Builder[];
  readonly workDir: string;
  readonly megabytes: number;
  readonly runs: number;
  readonly signal: AbortSignal;
}): Promise<{ results: ExportResult[]; layerBytes: number }> {
  const { signal } = opts;
  const layerBytes = opts.megabytes * 1024 * 1024;
  const ctx = join(opts.workDir, 'export-ctx');
  await mkdir(ctx, { recursive: true });
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${BASE_IMAGE}\nRUN head -c ${layerBytes} /dev/urandom > /big.bin\n`);
  const ociTar = join(opts.workDir, 'export.oci.tar');
  const variants: Variant[] = [];
  for (const b of opts.builders) {
    variants.push({ label: b.name, builder: b, output: undefined });
    if (b.name === 'tsbuild') variants.push({ label: 'tsbuild -o type=oci', builder: b, output: `type=oci,dest=${ociTar}` });
  }
  const runs = new Map<string, BuildOutcome[]>(variants.map((v) => [v.label, []]));
  for (let i = 0; i < opts.runs; i++) {
    for (const v of variants) {
      await v.builder.reset({ signal });
      const o = await v.builder.build({ contextDir: ctx, tag: 'bench-export', ...(v.output !== undefined ? { output: v.output } : {}) }, { signal });
      await rm(ociTar, { force: true });
      runs.get(v.label)?.push(o);
      process.stderr.write(`  export ${v.label}: run ${i + 1}/${opts.runs} build ${seconds(o.wallMs)}, export ${seconds(o.exportMs)}\n`);
    }
  }
  // Free the space now: the next benchmark should not pay for a full disk.
  for (const b of opts.builders) await b.reset({ signal });
  return { results: variants.map((v) => ({ label: v.label, runs: runs.get(v.label) ?? [] })), layerBytes };
}
