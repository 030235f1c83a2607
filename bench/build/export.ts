/**
 * Export of one big layer of SIZE bytes (1 GiB by default), in two kinds: `random`
 * (`head -c SIZE /dev/urandom`: incompressible, like layers full of .gz/.jpg/.whl files — tsbuild
 * stores such blocks without deflating them) and `binary` (/bin/busybox over and over: compresses
 * like executables, about 2:1, so deflate does real work), built cold, timing the export step as
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

export type ExportKind = 'random' | 'binary';

/** The RUN that writes the layer's one big file. */
function fillCommand(kind: ExportKind, layerBytes: number): string {
  if (kind === 'random') return `head -c ${layerBytes} /dev/urandom > /big.bin`;
  return `s=$(wc -c < /bin/busybox); n=$(( ${layerBytes} / s + 1 )); i=0; while [ $i -lt $n ]; do cat /bin/busybox; i=$((i+1)); done | head -c ${layerBytes} > /big.bin`;
}

export async function benchExport(opts: {
  readonly kind: ExportKind;
  readonly builders: readonly Builder[];
  readonly workDir: string;
  readonly megabytes: number;
  readonly runs: number;
  readonly signal: AbortSignal;
}): Promise<{ results: ExportResult[]; layerBytes: number }> {
  const { signal } = opts;
  const layerBytes = opts.megabytes * 1024 * 1024;
  const ctx = join(opts.workDir, `export-ctx-${opts.kind}`);
  await mkdir(ctx, { recursive: true });
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${BASE_IMAGE}\nRUN ${fillCommand(opts.kind, layerBytes)}\n`);
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
      process.stderr.write(`  export ${opts.kind} ${v.label}: run ${i + 1}/${opts.runs} build ${seconds(o.wallMs)}, export ${seconds(o.exportMs)}\n`);
    }
  }
  // Free the space now: the next benchmark should not pay for a full disk.
  for (const b of opts.builders) await b.reset({ signal });
  return { results: variants.map((v) => ({ label: v.label, runs: runs.get(v.label) ?? [] })), layerBytes };
}
