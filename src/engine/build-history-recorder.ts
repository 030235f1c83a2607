/**
 * One build's link to the build history: it collects what each step's cache key read (context
 * files, the image a FROM resolved to) as the ops report it, explains each executed step by
 * comparing it with the closest earlier record of the same step, and writes the build's steps when
 * it ends (also when it fails or is cancelled). History is best effort: a database error here never
 * fails a build.
 */
import type { BuildHistory } from '../cache/build-history.js';
import type { FileFingerprint, HistoryStepInput, LayerUsage, HistoryStepOutcome, StepFacts } from '../cache/types.js';
import type { LoadedDefinition, LLBVertex } from '../llb/types.js';
import type { CacheRecord } from '../solver/cache-types.js';
import type { KeyPart } from '../solver/cache-key.js';
import type { BuildSummary, MissQuery, StepRecord, Vertex } from '../solver/types.js';
import type { StepObserver } from '../worker/ops/context.js';
import { explainMiss, instructionOf } from './miss-why.js';

export interface HistoryRecorderOptions {
  readonly history: BuildHistory;
  /**
   * For the layer size of each step (its cache record's size). Read without counting a use: the
   * solver's lookup already counted this build's (a lookup here counted each step twice and cost a
   * write transaction per step; issue 10).
   */
  readonly records: { get(key: string, output: number): CacheRecord | undefined };
  /** Which Dockerfile (absolute path, or the daemon's client context key and name). */
  readonly dockerfile: string;
  readonly description: string;
  /** The definition the build runs. */
  readonly definition: LoadedDefinition;
  /** Names declared by ARG anywhere in the Dockerfile: the env entries of a RUN that are build args. */
  readonly argNames: ReadonlySet<string>;
  /** Builds the history keeps. */
  readonly keep: number;
}

interface Seen {
  files: Map<string, { fingerprint: string; size: number }>;
  imageId?: string;
}

export class HistoryRecorder implements StepObserver {
  readonly #o: HistoryRecorderOptions;
  readonly #started = Date.now();
  /** LLB vertex by the solver's vertex digest. */
  readonly #llb = new Map<string, LLBVertex>();
  /** What the ops reported, by LLB digest. */
  readonly #seen = new Map<string, Seen>();
  /** The solver's vertices by their own digest. */
  readonly #vertices = new Map<string, Vertex>();
  #dockerfileSeen: boolean | undefined;
  readonly #lines = new Map<number, readonly string[]>();

  constructor(o: HistoryRecorderOptions) {
    this.#o = o;
  }

  /** The solver's vertices by LLB digest (solverGraph's map), once the graph is made. */
  useVertices(vertices: ReadonlyMap<string, Vertex>): void {
    for (const [llbDigest, v] of vertices) {
      this.#vertices.set(v.digest, v);
      const l = this.#o.definition.vertices.get(llbDigest);
      if (l) this.#llb.set(v.digest, l);
    }
  }

  fileRead(vertex: string, path: string, fingerprint: string, size: number): void {
    this.#at(vertex).files.set(path, { fingerprint, size });
  }

  imageResolved(vertex: string, imageId: string): void {
    this.#at(vertex).imageId = imageId;
  }

  /** The solver's explainer (SolveOptions.explainMiss). */
  readonly explain = async (q: MissQuery): Promise<string | undefined> => {
    if (!q.vertex.options.stage) return undefined; // [internal] steps
    const h = this.#o.history;
    this.#dockerfileSeen ??= h.hasBuildsOf(this.#o.dockerfile);
    const instruction = this.#instruction(q.vertex);
    const parentKey = parentKeyOf(q.parts);
    const earlier = this.#dockerfileSeen
      ? h.closest({ dockerfile: this.#o.dockerfile, stage: q.vertex.options.stage, instruction, parentKey })
      : undefined;
    const llb = this.#llb.get(q.vertex.digest);
    const input = q.reason.kind === 'input-changed' ? q.vertex.inputs[q.reason.input]?.vertex : undefined;
    return explainMiss({
      instruction,
      imageRef: isImageSource(llb) ? instructionOf(q.vertex.name).replace(/^FROM\s+/i, '').split(/\s+/)[0] : undefined,
      parentKey,
      facts: this.#facts(q.vertex, q.opDigest, q.parts),
      files: this.#files(llb),
      reason: q.reason,
      ...(input ? { inputInstruction: this.#instruction(input) } : {}),
    }, earlier, { dockerfileSeen: this.#dockerfileSeen });
  };

  /**
   * The solver's finder of earlier results (SolveOptions.previousResult), for incremental COPY: the
   * cache key of the closest earlier run of a file op step with the same parent key, instruction and
   * definition whose inputs differ only in the content its key read. Undefined otherwise.
   */
  readonly previous = async (q: MissQuery): Promise<string | undefined> => {
    const stage = q.vertex.options.stage;
    const llb = this.#llb.get(q.vertex.digest);
    if (!stage || llb?.op.kind !== 'file' || !q.parts.some((p) => p.kind === 'content')) return undefined;
    const h = this.#o.history;
    this.#dockerfileSeen ??= h.hasBuildsOf(this.#o.dockerfile);
    if (!this.#dockerfileSeen) return undefined;
    const instruction = this.#instruction(q.vertex);
    const parentKey = parentKeyOf(q.parts);
    const was = h.closest({ dockerfile: this.#o.dockerfile, stage, instruction, parentKey })?.step;
    if (!was || was.cacheKey === undefined || was.instruction !== instruction || was.parentKey !== parentKey) return undefined;
    if ((was.outcome !== 'executed' && was.outcome !== 'cached') || was.facts.opDigest !== q.opDigest) return undefined;
    const before = was.facts.inputs ?? [];
    const now = this.#facts(q.vertex, q.opDigest, q.parts).inputs ?? [];
    const sameButContent = before.length === now.length
      && now.every((x, i) => x === before[i] || (x.startsWith('content:') && before[i]?.startsWith('content:') === true));
    return sameButContent ? was.cacheKey : undefined;
  };

  /** Writes the build (best effort). `summary` is undefined when the build failed before solving. */
  async record(summary: BuildSummary | undefined, status: 'succeeded' | 'failed' | 'cancelled', layers?: readonly LayerUsage[]): Promise<string | undefined> {
    if (!summary) return undefined;
    try {
      const steps: HistoryStepInput[] = [];
      for (const [index, st] of summary.steps.entries()) steps.push(await this.#step(index, st));
      return this.#o.history.record({
        description: this.#o.description, dockerfile: this.#o.dockerfile, status, startedAt: this.#started, finishedAt: Date.now(), steps, keep: this.#o.keep,
        ...(layers ? { layers } : {}),
      }).buildId;
    } catch {
      return undefined;
    }
  }

  async #step(index: number, st: StepRecord): Promise<HistoryStepInput> {
    const v = this.#vertices.get(st.digest);
    const llb = this.#llb.get(st.digest);
    const files = this.#files(llb);
    const rec = st.cacheKey !== undefined && (st.outcome === 'executed' || st.outcome === 'cached') ? this.#get(st.cacheKey) : undefined;
    const seen = llb ? this.#seen.get(llb.digest) : undefined;
    return {
      index,
      vertexDigest: st.digest,
      name: st.name,
      stage: v?.options.stage ?? '',
      instruction: v ? this.#instruction(v) : instructionOf(st.name),
      cacheKey: st.cacheKey,
      parentKey: st.keyParts ? parentKeyOf(st.keyParts) : undefined,
      outcome: st.outcome satisfies HistoryStepOutcome,
      why: st.why,
      startedAt: st.started,
      finishedAt: st.completed,
      durationMs: st.durationMs,
      layerSize: rec?.size,
      bytesRead: seen ? [...seen.files.values()].reduce((n, f) => n + f.size, 0) : undefined,
      facts: v && st.opDigest !== undefined ? this.#facts(v, st.opDigest, st.keyParts ?? []) : {},
      files,
    };
  }

  #get(key: string): CacheRecord | undefined {
    try {
      return this.#o.records.get(key, 0);
    } catch {
      return undefined;
    }
  }

  #facts(v: Vertex, opDigest: string, parts: readonly KeyPart[]): StepFacts {
    const llb = this.#llb.get(v.digest);
    const args = llb ? argsOf(llb, this.#o.argNames) : undefined;
    const imageId = llb ? this.#seen.get(llb.digest)?.imageId : undefined;
    return {
      opDigest,
      inputs: parts.map((p) => (p.kind === 'key' ? p.key : `content:${p.checksum}`)),
      ...(args ? { args } : {}),
      ...(imageId ? { imageId } : {}),
    };
  }

  #files(llb: LLBVertex | undefined): FileFingerprint[] | undefined {
    const seen = llb ? this.#seen.get(llb.digest) : undefined;
    if (!seen || seen.files.size === 0) return undefined;
    return [...seen.files].map(([p, f]): FileFingerprint => [p, f.fingerprint]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /**
   * The instruction as written in the Dockerfile (continuation lines joined), so a changed ARG
   * value reads as a changed build arg rather than a changed instruction; else the progress name
   * without its `[stage n/m]` prefix.
   */
  #instruction(v: Vertex): string {
    const loc = this.#llb.get(v.digest)?.metadata.locations[0];
    const lines = loc ? this.#sourceLines(loc.sourceIndex) : undefined;
    if (loc && lines && loc.startLine > 0 && loc.endLine >= loc.startLine) {
      const text = lines.slice(loc.startLine - 1, loc.endLine).map((l) => l.trim().replace(/\\$/, '').trim()).filter((l) => l !== '').join(' ');
      if (text !== '') return text;
    }
    return instructionOf(v.name);
  }

  #sourceLines(index: number): readonly string[] | undefined {
    let lines = this.#lines.get(index);
    if (!lines) {
      const src = this.#o.definition.sources[index];
      if (!src) return undefined;
      lines = Buffer.from(src.data).toString('utf8').split(/\r?\n/);
      this.#lines.set(index, lines);
    }
    return lines;
  }

  #at(vertex: string): Seen {
    let s = this.#seen.get(vertex);
    if (!s) this.#seen.set(vertex, (s = { files: new Map() }));
    return s;
  }
}

/** The cache key of the first input keyed by cache key: the layer the step builds on. */
function parentKeyOf(parts: readonly KeyPart[]): string | undefined {
  for (const p of parts) if (p.kind === 'key') return p.key;
  return undefined;
}

function isImageSource(v: LLBVertex | undefined): boolean {
  return v?.op.kind === 'source' && v.op.source.identifier.startsWith('docker-image://');
}

/** The build args a RUN sees: its env entries named by an ARG of the Dockerfile. */
function argsOf(v: LLBVertex, names: ReadonlySet<string>): Record<string, string> | undefined {
  if (v.op.kind !== 'exec') return undefined;
  const out: Record<string, string> = {};
  for (const e of v.op.exec.meta?.env ?? []) {
    const i = e.indexOf('=');
    const k = i < 0 ? e : e.slice(0, i);
    if (names.has(k)) out[k] = i < 0 ? '' : e.slice(i + 1);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
