/**
 * Build history: one row per build (counts of steps cached/executed) and one per step (cache key,
 * hit or miss and the reason), the raw data of the cache-hit reports (src/report).
 */
import { randomBytes } from 'node:crypto';
import { TsbuildError } from '../util/errors.js';
import type { MetadataDb } from './metadata-db.js';
import type { BuildRecord, BuildStatus, BuildStepRecord, StepOutcome } from './types.js';

interface BuildRow {
  build_id: string;
  description: string;
  status: string;
  started_at: number;
  finished_at: number | null;
  steps_total: number;
  steps_cached: number;
  steps_executed: number;
}

interface StepRow {
  idx: number;
  vertex_digest: string;
  name: string;
  cache_key: string | null;
  outcome: string;
  reason: string | null;
  started_at: number | null;
  finished_at: number | null;
}

const STATUSES: ReadonlySet<string> = new Set<BuildStatus>(['running', 'succeeded', 'failed', 'cancelled']);

function toBuild(r: BuildRow): BuildRecord {
  return {
    buildId: r.build_id,
    description: r.description,
    status: (STATUSES.has(r.status) ? r.status : 'failed') as BuildStatus,
    startedAt: r.started_at,
    finishedAt: r.finished_at ?? undefined,
    stepsTotal: r.steps_total,
    stepsCached: r.steps_cached,
    stepsExecuted: r.steps_executed,
  };
}

function toStep(r: StepRow): BuildStepRecord {
  return {
    index: r.idx,
    vertexDigest: r.vertex_digest,
    name: r.name,
    cacheKey: r.cache_key ?? undefined,
    outcome: (r.outcome === 'hit' ? 'hit' : 'miss') as StepOutcome,
    reason: r.reason ?? undefined,
    startedAt: r.started_at ?? undefined,
    finishedAt: r.finished_at ?? undefined,
  };
}

export interface StartBuildOptions {
  /** Default: 20 random hex characters. */
  readonly buildId?: string;
  readonly description: string;
}

export interface FinishBuildOptions {
  readonly status: Exclude<BuildStatus, 'running'>;
  readonly stepsTotal: number;
  readonly stepsCached: number;
  readonly stepsExecuted: number;
}

export class BuildHistory {
  private readonly db: MetadataDb;
  private readonly now: () => number;

  constructor(opts: { readonly db: MetadataDb; readonly now?: () => number }) {
    this.db = opts.db;
    this.now = opts.now ?? Date.now;
  }

  start(o: StartBuildOptions): BuildRecord {
    const id = o.buildId ?? randomBytes(10).toString('hex');
    this.db.write(() => {
      this.db.sqlite.prepare("INSERT INTO builds (build_id, description, status, started_at) VALUES (?, ?, 'running', ?)").run(id, o.description, this.now());
    });
    return this.get(id) as BuildRecord;
  }

  /** Appends or replaces step records (by index). */
  recordSteps(buildId: string, steps: readonly BuildStepRecord[]): void {
    const s = this.db.sqlite;
    this.db.write(() => {
      if (!s.prepare('SELECT 1 FROM builds WHERE build_id = ?').get(buildId)) throw unknownBuild(buildId);
      const ins = s.prepare(`INSERT OR REPLACE INTO build_steps (build_id, idx, vertex_digest, name, cache_key, outcome, reason, started_at, finished_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const st of steps) {
        ins.run(buildId, st.index, st.vertexDigest, st.name, st.cacheKey ?? null, st.outcome, st.reason ?? null, st.startedAt ?? null, st.finishedAt ?? null);
      }
    });
  }

  finish(buildId: string, o: FinishBuildOptions): BuildRecord {
    this.db.write(() => {
      const r = this.db.sqlite.prepare('UPDATE builds SET status = ?, finished_at = ?, steps_total = ?, steps_cached = ?, steps_executed = ? WHERE build_id = ?')
        .run(o.status, this.now(), o.stepsTotal, o.stepsCached, o.stepsExecuted, buildId);
      if (r.changes === 0) throw unknownBuild(buildId);
    });
    return this.get(buildId) as BuildRecord;
  }

  get(buildId: string): BuildRecord | undefined {
    const r = this.db.sqlite.prepare('SELECT * FROM builds WHERE build_id = ?').get(buildId) as BuildRow | undefined;
    return r && toBuild(r);
  }

  /** Most recent first. */
  list(opts: { readonly limit?: number } = {}): BuildRecord[] {
    return (this.db.sqlite.prepare('SELECT * FROM builds ORDER BY started_at DESC, build_id LIMIT ?').all(opts.limit ?? -1) as BuildRow[]).map(toBuild);
  }

  steps(buildId: string): BuildStepRecord[] {
    return (this.db.sqlite.prepare('SELECT * FROM build_steps WHERE build_id = ? ORDER BY idx').all(buildId) as StepRow[]).map(toStep);
  }

  delete(buildId: string): boolean {
    return this.db.write(() => this.db.sqlite.prepare('DELETE FROM builds WHERE build_id = ?').run(buildId).changes > 0);
  }

  /** Keeps the newest `keep` builds. Returns how many were removed. */
  trim(keep: number): number {
    return this.db.write(() => this.db.sqlite.prepare(`DELETE FROM builds WHERE build_id NOT IN
      (SELECT build_id FROM builds ORDER BY started_at DESC, build_id LIMIT ?)`).run(Math.max(0, keep)).changes);
  }
}

function unknownBuild(id: string): TsbuildError {
  return new TsbuildError('BUILD_NOT_FOUND', `no build ${id} in the history`);
}
