/** What `tsbuild cache check` finds and `--repair` fixes (src/cache/consistency-check.ts). */

export type CheckProblem =
  | { readonly kind: 'missing-snapshot'; readonly key: string; readonly output: number; readonly resultId: string }
  | { readonly kind: 'blob-digest-mismatch'; readonly digest: string; readonly actual: string }
  | { readonly kind: 'bad-blob-name'; readonly path: string }
  | { readonly kind: 'orphan-ingest'; readonly path: string }
  | { readonly kind: 'orphan-tmp'; readonly path: string }
  | { readonly kind: 'dead-ref'; readonly resultId: string; readonly holder: string }
  | { readonly kind: 'stale-tombstone'; readonly resultId: string }
  | { readonly kind: 'stale-lock'; readonly name: string }
  | { readonly kind: 'missing-layer-blob'; readonly snapshotId: string; readonly blobDigest: string }
  /** A committed snapshot no record, live ref or running operation needs, nor any snapshot above it. */
  | { readonly kind: 'orphan-snapshot'; readonly snapshotId: string; readonly bytes: number }
  /** A blob no image, kept snapshot's layer entry or running operation reaches. */
  | { readonly kind: 'orphan-blob'; readonly digest: string; readonly size: number }
  /** A ref row (parent, size) nobody holds, of a snapshot that no longer exists. */
  | { readonly kind: 'orphan-ref'; readonly resultId: string }
  /** A layer-blob entry of a snapshot that no longer exists. */
  | { readonly kind: 'orphan-layer-entry'; readonly snapshotId: string; readonly blobDigest: string }
  /** What a process that is gone left in the snapshotter's directory. */
  | { readonly kind: 'snapshot-leftover'; readonly path: string }
  /** An operation (build, load, prune...) whose process died before it finished. */
  | { readonly kind: 'dead-lease'; readonly id: string; readonly label: string }
  | { readonly kind: 'db-integrity'; readonly message: string };

export interface CheckReport {
  readonly ok: boolean;
  readonly problems: readonly CheckProblem[];
  readonly recordsChecked: number;
  readonly blobsChecked: number;
}

export interface RepairReport {
  readonly fixed: readonly CheckProblem[];
  /** Problems repair does not touch (e.g. a corrupt database). */
  readonly remaining: readonly CheckProblem[];
}
