/**
 * Build history: one row per build and one per step, with what went into each step's cache key
 * (instruction, parent key, ARG values, base image, the files it read). It is the raw data of miss
 * explanations and cache-hit reports (src/report). A build is written once, when it ends, in one
 * transaction; the history keeps the newest N builds. The files a step read are stored once per
 * distinct set (history_file_sets), so unchanged rebuilds add no file rows.
 */
import { createHash, randomBytes } from 'node:crypto';
import { TsbuildError } from '../util/errors.js';
import type { MetadataDb } from './metadata-db.js';
import type { BuildRecord, LayerUsage, BuildStatus, FileFingerprint, HistoryStep, HistoryStepInput, HistoryStepOutcome, StepFacts } from './types.js';

/** At most this many files are kept per step; a bigger set is cut and marked truncated. */
export const MAX_FILES_PER_STEP = 10_000;
/** Builds kept when nobody says otherwise (`--history-keep`, TSBUILD_HISTORY_KEEP). */
export const DEFAULT_HISTORY_KEEP = 50;

interface BuildRow {
  build_id: string;
  description: string;
  dockerfile: string;
  status: string;
  started_at: number;
  finished_at: number | null;
  steps_total: number;
  steps_cached: number;
  steps_executed: number;
  layers: string | null;
}

interface StepRow {
  build_id: string;
  idx: number;
  vertex_digest: string;
  name: string;
  stage: string;
  instruction: string;
  cache_key: string | null;
  parent_key: string | null;
  outcome: string;
  why: string | null;
  started_at: number | null;
  finished_at: number | null;
  duration_ms: number;
  layer_size: number | null;
  bytes_read: number | null;
  facts: string | null;
  files_digest: string | null;
  files_count: number | null;
  files_truncated: number | null;
}

const STATUSES: ReadonlySet<string> = new Set<BuildStatus>(['running', 'succeeded', 'failed', 'cancelled']);
const OUTCOMES: ReadonlySet<string> = new Set<HistoryStepOutcome>(['cached', 'executed', 'skipped', 'failed', 'canceled']);

const STEP_SELECT = `SELECT s.*, f.count AS files_count, f.truncated AS files_truncated
  FROM build_steps s JOIN builds b ON b.build_id = s.build_id LEFT JOIN history_file_sets f ON f.digest = s.files_digest`;

function toBuild(r: BuildRow): BuildRecord {
  return {
    buildId: r.build_id,
    description: r.description,
    dockerfile: r.dockerfile,
    status: (STATUSES.has(r.status) ? r.status : 'failed') as BuildStatus,
    startedAt: r.started_at,
    finishedAt: r.finished_at ?? undefined,
    stepsTotal: r.steps_total,
    stepsCached: r.steps_cached,
    stepsExecuted: r.steps_executed,
    layers: parseLayers(r.layers),
  };
}

function parseLayers(s: string | null): LayerUsage[] | undefined {
  if (!s) return undefined;
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) ? (v as LayerUsage[]) : undefined;
  } catch {
    return undefined;
  }
}

function parseFacts(s: string | null): StepFacts {
  if (!s) return {};
  try {
    const v: unknown = JSON.parse(s);
    return v !== null && typeof v === 'object' ? (v as StepFacts) : {};
  } catch {
    return {};
  }
}

function toStep(r: StepRow): HistoryStep {
  return {
    index: r.idx,
    vertexDigest: r.vertex_digest,
    name: r.name,
    stage: r.stage,
    instruction: r.instruction,
    cacheKey: r.cache_key ?? undefined,
    parentKey: r.parent_key ?? undefined,
    outcome: (OUTCOMES.has(r.outcome) ? r.outcome : 'failed') as HistoryStepOutcome,
    why: r.why ?? undefined,
    startedAt: r.started_at ?? undefined,
    finishedAt: r.finished_at ?? undefined,
    durationMs: r.duration_ms,
    layerSize: r.layer_size ?? undefined,
    bytesRead: r.bytes_read ?? undefined,
    facts: parseFacts(r.facts),
    filesCount: r.files_count ?? 0,
    filesTruncated: r.files_truncated === 1,
  };
}

export interface RecordBuildOptions {
  /** Default: 20 random hex characters. */
  readonly buildId?: string;
  readonly description: string;
  readonly dockerfile: string;
  readonly status: Exclude<BuildStatus, 'running'>;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly steps: readonly HistoryStepInput[];
  /** The built image's layers, bottom first, when the build made one. */
  readonly layers?: readonly LayerUsage[];
  /** Builds to keep after this one is added (older ones are removed). Default DEFAULT_HISTORY_KEEP. */
  readonly keep?: number;
}

/** A step of an earlier build, with the files its key read. */
export interface EarlierStep {
  readonly buildId: string;
  readonly step: HistoryStep;
  /** Sorted by path; undefined when the step read no context files. */
  readonly files: readonly FileFingerprint[] | undefined;
}

export class BuildHistory {
  private readonly db: MetadataDb;

  constructor(opts: { readonly db: MetadataDb }) {
    this.db = opts.db;
  }

  /** Stores a finished build and its steps, then trims the history to `keep` builds. */
  record(o: RecordBuildOptions): BuildRecord {
    const id = o.buildId ?? randomBytes(10).toString('hex');
    const s = this.db;
    // The counts are of Dockerfile steps, as the progress summary counts them (internal ones have no stage).
    const own = o.steps.filter((st) => st.stage !== '');
    const count = (x: HistoryStepOutcome): number => own.filter((st) => st.outcome === x).length;
    this.db.write(() => {
      s.prepare(`INSERT INTO builds (build_id, description, dockerfile, status, started_at, finished_at, steps_total, steps_cached, steps_executed, layers)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(id, o.description, o.dockerfile, o.status, o.startedAt, o.finishedAt, own.length, count('cached'), count('executed'),
        o.layers ? JSON.stringify(o.layers) : null);
      const ins = s.prepare(`INSERT INTO build_steps (build_id, idx, vertex_digest, name, stage, instruction, cache_key, parent_key, outcome, reason, why,
        started_at, finished_at, duration_ms, layer_size, bytes_read, facts, files_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      const set = s.prepare('INSERT OR IGNORE INTO history_file_sets (digest, files, count, truncated) VALUES (?, ?, ?, ?)');
      for (const st of o.steps) {
        let filesDigest: string | null = null;
        if (st.files !== undefined) {
          const truncated = st.files.length > MAX_FILES_PER_STEP;
          const json = JSON.stringify(truncated ? st.files.slice(0, MAX_FILES_PER_STEP) : st.files);
          filesDigest = `sha256:${createHash('sha256').update(json).digest('hex')}`;
          set.run(filesDigest, json, st.files.length, truncated ? 1 : 0);
        }
        ins.run(id, st.index, st.vertexDigest, st.name, st.stage, st.instruction, st.cacheKey ?? null, st.parentKey ?? null, st.outcome, st.why ?? null, st.why ?? null,
          st.startedAt ?? null, st.finishedAt ?? null, st.durationMs, st.layerSize ?? null, st.bytesRead ?? null, JSON.stringify(st.facts), filesDigest);
      }
      // In the same transaction: one commit per build instead of two (issue 10).
      this.#trim(o.keep ?? DEFAULT_HISTORY_KEEP);
    });
    return this.get(id) as BuildRecord;
  }

  get(buildId: string): BuildRecord | undefined {
    const r = this.db.prepare('SELECT * FROM builds WHERE build_id = ?').get(buildId) as BuildRow | undefined;
    return r && toBuild(r);
  }

  /** Most recent first. */
  list(opts: { readonly limit?: number } = {}): BuildRecord[] {
    return (this.db.prepare('SELECT * FROM builds ORDER BY started_at DESC, finished_at DESC LIMIT ?').all(opts.limit ?? -1) as BuildRow[]).map(toBuild);
  }

  steps(buildId: string): HistoryStep[] {
    return (this.db.prepare(`${STEP_SELECT} WHERE s.build_id = ? ORDER BY s.idx`).all(buildId) as StepRow[]).map(toStep);
  }

  /** Whether any build of `dockerfile` is recorded. */
  hasBuildsOf(dockerfile: string): boolean {
    return this.db.prepare('SELECT 1 FROM builds WHERE dockerfile = ? LIMIT 1').get(dockerfile) !== undefined;
  }

  /**
   * The closest earlier record of a step: the newest step of the same Dockerfile and stage with the
   * same instruction (one with the same parent key first); else the newest step with the same
   * parent key (of any Dockerfile, this one first). Undefined when there is neither.
   */
  closest(q: { readonly dockerfile: string; readonly stage: string; readonly instruction: string; readonly parentKey: string | undefined }): EarlierStep | undefined {
    const s = this.db;
    let row = s.prepare(`${STEP_SELECT} WHERE b.dockerfile = ? AND s.stage = ? AND s.instruction = ? AND s.cache_key IS NOT NULL
      ORDER BY (s.parent_key IS ?) DESC, b.started_at DESC, b.finished_at DESC LIMIT 1`).get(q.dockerfile, q.stage, q.instruction, q.parentKey ?? null) as StepRow | undefined;
    if (!row && q.parentKey !== undefined) {
      row = s.prepare(`${STEP_SELECT} WHERE s.parent_key = ? AND s.cache_key IS NOT NULL
        ORDER BY (b.dockerfile = ?) DESC, b.started_at DESC, b.finished_at DESC LIMIT 1`).get(q.parentKey, q.dockerfile) as StepRow | undefined;
    }
    if (!row) return undefined;
    return { buildId: row.build_id, step: toStep(row), files: this.#files(row.files_digest) };
  }

  /** The files a recorded step read, sorted by path (undefined: none recorded). */
  filesOf(buildId: string, index: number): readonly FileFingerprint[] | undefined {
    const r = this.db.prepare('SELECT files_digest FROM build_steps WHERE build_id = ? AND idx = ?').get(buildId, index) as { files_digest: string | null } | undefined;
    return this.#files(r?.files_digest ?? null);
  }

  delete(buildId: string): boolean {
    return this.db.write(() => {
      const n = this.db.prepare('DELETE FROM builds WHERE build_id = ?').run(buildId).changes;
      this.#dropUnusedFileSets();
      return n > 0;
    });
  }

  /** Keeps the newest `keep` builds (and the file sets they use). Returns how many were removed. */
  trim(keep: number): number {
    return this.db.write(() => this.#trim(keep));
  }

  /** trim()'s body; the caller holds the write transaction. */
  #trim(keep: number): number {
    // The builds past the newest `keep` (OFFSET): a NOT IN over the newest ones checked every row
    // against that list (a record and its trim: 157 -> 91 us CPU in a microbenchmark, issue 10).
    const n = this.db.prepare(`DELETE FROM builds WHERE build_id IN
      (SELECT build_id FROM builds ORDER BY started_at DESC, finished_at DESC LIMIT -1 OFFSET ?)`).run(Math.max(0, keep)).changes;
    if (n > 0) this.#dropUnusedFileSets();
    return n;
  }

  #dropUnusedFileSets(): void {
    this.db.prepare('DELETE FROM history_file_sets WHERE digest NOT IN (SELECT files_digest FROM build_steps WHERE files_digest IS NOT NULL)').run();
  }

  #files(digest: string | null): readonly FileFingerprint[] | undefined {
    if (digest === null) return undefined;
    const r = this.db.prepare('SELECT files FROM history_file_sets WHERE digest = ?').get(digest) as { files: string } | undefined;
    if (!r) return undefined;
    try {
      return JSON.parse(r.files) as FileFingerprint[];
    } catch {
      return undefined;
    }
  }
}

/** The error for a build id the history does not hold. */
export function unknownBuild(id: string): TsbuildError {
  return new TsbuildError('BUILD_NOT_FOUND', `no build ${id} in the history`);
}
