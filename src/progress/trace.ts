/**
 * The renderers' model of a build, folded from its events: the vertices in first-seen order with
 * their state and timings, status rows, the last log lines, warnings. Logs are split into lines
 * (a chunk may end mid-line) and stamped with seconds since the step started, as BuildKit does.
 */
import { assertNever } from '../util/errors.js';
import { formatLogTime } from './format.js';
import type { LogEvent, ProgressEvent, StatusEvent, VertexEvent, WarningEvent } from './types.js';

/** Lines of a failed step BuildKit shows between `------` rules. */
export const ERROR_LOG_LINES = 10;

export interface Interval {
  start: number;
  stop: number | undefined;
}

export interface TraceVertex {
  readonly digest: string;
  name: string;
  /** 0-based order of first appearance. */
  readonly order: number;
  cached: boolean;
  error: string | undefined;
  canceled: boolean;
  intervals: Interval[];
  /** Status rows by id, in first-seen order. */
  readonly statuses: Map<string, StatusEvent>;
  /** Last complete log lines, each `0.123 text` (at most `keepLines`). */
  readonly lastLines: string[];
  /** Text after the last newline of the logs so far, and when it began. */
  partial: string;
  partialTs: number;
  readonly warnings: WarningEvent[];
  /** Why it ran instead of coming from the cache (from its last `started` event). */
  cacheMiss: string | undefined;
}

/** What an event changed, for incremental renderers. */
export type TraceChange =
  | { readonly kind: 'vertex'; readonly v: TraceVertex; readonly ev: VertexEvent; readonly reopened: boolean }
  | { readonly kind: 'log'; readonly v: TraceVertex; readonly lines: readonly string[] }
  | { readonly kind: 'status'; readonly v: TraceVertex; readonly ev: StatusEvent }
  | { readonly kind: 'warning'; readonly v: TraceVertex | undefined; readonly ev: WarningEvent }
  | { readonly kind: 'ignored' };

export interface TraceOptions {
  /** Complete log lines kept per vertex (default ERROR_LOG_LINES). */
  readonly keepLines?: number;
}

export class Trace {
  readonly vertices = new Map<string, TraceVertex>();
  readonly warnings: WarningEvent[] = [];
  /** Earliest and latest timestamps seen. */
  first: number | undefined;
  last: number | undefined;
  readonly #keep: number;

  constructor(opts: TraceOptions = {}) {
    this.#keep = opts.keepLines ?? ERROR_LOG_LINES;
  }

  apply(ev: ProgressEvent): TraceChange {
    this.first = Math.min(this.first ?? ev.timestamp, ev.timestamp);
    this.last = Math.max(this.last ?? ev.timestamp, ev.timestamp);
    switch (ev.type) {
      case 'vertex':
        return this.#vertex(ev);
      case 'log':
        return this.#log(ev);
      case 'status': {
        const v = this.vertices.get(ev.vertex);
        if (!v) return { kind: 'ignored' };
        v.statuses.set(ev.id, ev);
        return { kind: 'status', v, ev };
      }
      case 'warning': {
        this.warnings.push(ev);
        const v = ev.vertex === undefined ? undefined : this.vertices.get(ev.vertex);
        v?.warnings.push(ev);
        return { kind: 'warning', v, ev };
      }
      default:
        return assertNever(ev, 'progress event');
    }
  }

  /** Ends a vertex's unfinished last line (at completion or when the display closes). */
  flushPartial(v: TraceVertex): string[] {
    if (v.partial === '') return [];
    const line = `${formatLogTime(v.partialTs - this.#startOf(v, v.partialTs))} ${v.partial}`;
    v.partial = '';
    this.#remember(v, line);
    return [line];
  }

  isStarted(v: TraceVertex): boolean {
    return v.intervals.length > 0;
  }

  isCompleted(v: TraceVertex): boolean {
    const last = v.intervals[v.intervals.length - 1];
    return last !== undefined && last.stop !== undefined;
  }

  /** Milliseconds the vertex ran, overlapping restarts merged; open intervals end at `now`. */
  duration(v: TraceVertex, now: number): number {
    const ivs = [...v.intervals].sort((a, b) => a.start - b.start);
    let total = 0;
    let curStart: number | undefined;
    let curStop = 0;
    for (const iv of ivs) {
      const stop = iv.stop ?? now;
      if (curStart === undefined || iv.start > curStop) {
        if (curStart !== undefined) total += curStop - curStart;
        curStart = iv.start;
        curStop = stop;
      } else {
        curStop = Math.max(curStop, stop);
      }
    }
    if (curStart !== undefined) total += curStop - curStart;
    return total;
  }

  #vertex(ev: VertexEvent): TraceChange {
    let v = this.vertices.get(ev.digest);
    if (!v) {
      v = {
        digest: ev.digest,
        name: ev.name,
        order: this.vertices.size,
        cached: false,
        error: undefined,
        canceled: false,
        intervals: [],
        statuses: new Map(),
        lastLines: [],
        partial: '',
        partialTs: 0,
        warnings: [],
        cacheMiss: undefined,
      };
      this.vertices.set(ev.digest, v);
    }
    v.name = ev.name;
    const start = ev.started ?? ev.timestamp;
    const open = v.intervals[v.intervals.length - 1];
    let reopened = false;
    switch (ev.state) {
      case 'started':
        reopened = this.isCompleted(v);
        if (!open || open.stop !== undefined) v.intervals.push({ start, stop: undefined });
        v.cached = false;
        v.error = undefined;
        v.canceled = false;
        if (ev.cacheMiss !== undefined) v.cacheMiss = ev.cacheMiss;
        break;
      case 'cached':
      case 'completed':
      case 'error':
      case 'canceled': {
        const stop = ev.completed ?? ev.timestamp;
        if (open && open.stop === undefined) open.stop = stop;
        else v.intervals.push({ start, stop });
        v.cached = ev.state === 'cached';
        v.error = ev.state === 'error' ? (ev.error ?? 'failed') : undefined;
        v.canceled = ev.state === 'canceled';
        break;
      }
      default:
        return assertNever(ev.state, 'vertex state');
    }
    return { kind: 'vertex', v, ev, reopened };
  }

  #log(ev: LogEvent): TraceChange {
    const v = this.vertices.get(ev.vertex);
    if (!v) return { kind: 'ignored' };
    const lines: string[] = [];
    const parts = ev.data.split('\n');
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      if (last) {
        // Text after the last newline waits for the rest of its line.
        if (part !== '') {
          if (v.partial === '') v.partialTs = ev.timestamp;
          v.partial += part;
        }
        break;
      }
      const ts = v.partial === '' ? ev.timestamp : v.partialTs;
      const line = `${formatLogTime(ts - this.#startOf(v, ts))} ${v.partial}${part.replace(/\r$/, '')}`;
      v.partial = '';
      this.#remember(v, line);
      lines.push(line);
    }
    return { kind: 'log', v, lines };
  }

  #remember(v: TraceVertex, line: string): void {
    v.lastLines.push(line);
    if (v.lastLines.length > this.#keep) v.lastLines.splice(0, v.lastLines.length - this.#keep);
  }

  /** Start of the interval a timestamp belongs to (the most recent start not after it). */
  #startOf(v: TraceVertex, ts: number): number {
    let start: number | undefined;
    for (const iv of v.intervals) if (iv.start <= ts && (start === undefined || iv.start > start)) start = iv.start;
    return start ?? v.intervals[v.intervals.length - 1]?.start ?? ts;
  }
}
