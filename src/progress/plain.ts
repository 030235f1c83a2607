/**
 * BuildKit's `--progress=plain` output: one block per step, numbered `#N` in the order steps are
 * first shown, with log lines stamped in seconds since the step started:
 *
 *     #5 [stage-0 2/3] RUN make
 *     #5 CACHE MISS: parent step rebuilt (COPY . /src)
 *     #5 0.231 cc -o app main.c
 *     #5 DONE 0.4s
 *
 * Output of steps running in parallel is held back while another step is being shown, and shown
 * when that step finishes — or, after 5 s of waiting (by event time), interrupting it with `#N ...`
 * — so blocks stay readable, as in BuildKit's printer. It reads no clock except through `now`.
 */
import { errorBoxes, firstMissLine, isBookkeeping, summaryLine, warningList } from './epilogue.js';
import { formatBytes, formatSeconds } from './format.js';
import { Trace, type TraceVertex } from './trace.js';
import type { ProgressEvent, ProgressRenderer, RenderTarget, StatusEvent } from './types.js';

/** Output of a non-current step waits at most this long before it interrupts the current one. */
const ANTI_FLICKER_MS = 5000;
/**
 * A status row in progress is reprinted after STATUS_MIN_MS, or after STATUS_SHARE_MS once it moved
 * by STATUS_MIN_SHARE of its total: a fast transfer (a 1 MB layer) shows its first and its done
 * line, a slow one at most a line a second.
 */
const STATUS_MIN_MS = 5000;
const STATUS_SHARE_MS = 1000;
const STATUS_MIN_SHARE = 0.1;

export interface PlainRendererOptions {
  readonly out: RenderTarget;
  /** Clock for the closing summary (ms). Default Date.now. */
  readonly now?: () => number;
  /** Print the closing summary line (default true). */
  readonly summary?: boolean;
  /**
   * How often held-back output is checked against the 5 s rule when no events arrive (default 1000
   * ms; 0 = only on events, for tests).
   */
  readonly tickMs?: number;
}

interface Shown {
  /** `#N` number, assigned when the step is first printed. */
  index: number;
  /** Lines waiting to be printed (without the `#N ` prefix). */
  queue: string[];
  /** Timestamp of the oldest queued line, for the anti-flicker rule. */
  queuedSince: number | undefined;
  /** `CACHED`, `DONE 0.4s`, `ERROR: …`, `CANCELED` once the step ended and it is not printed yet. */
  final: string | undefined;
  /** The header must be printed even with nothing queued (a step that just started). */
  wantsHeader: boolean;
}

export class PlainRenderer implements ProgressRenderer {
  readonly #out: RenderTarget;
  readonly #now: () => number;
  readonly #summary: boolean;
  readonly #trace = new Trace();
  readonly #shown = new Map<string, Shown>();
  readonly #lastStatus = new Map<string, { current: number; ts: number; done: boolean }>();
  #nextIndex = 0;
  #current: string | undefined;
  #printedAny = false;
  #closed = false;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(opts: PlainRendererOptions) {
    this.#out = opts.out;
    this.#now = opts.now ?? Date.now;
    this.#summary = opts.summary ?? true;
    const tickMs = opts.tickMs ?? 1000;
    if (tickMs > 0) {
      this.#timer = setInterval(() => this.tick(), tickMs);
      // The display must never keep the process alive on its own.
      this.#timer.unref();
    }
  }

  write(ev: ProgressEvent): void {
    if (this.#closed) return;
    const ch = this.#trace.apply(ev);
    switch (ch.kind) {
      case 'ignored':
        return;
      case 'vertex': {
        const s = this.#state(ch.v);
        if (ch.ev.state === 'started') {
          s.wantsHeader = true;
          s.final = undefined;
          // Why the step runs instead of coming from the cache, first under its header.
          if (ch.ev.cacheMiss !== undefined && !isBookkeeping(ch.v.name)) this.#enqueue(s, `CACHE MISS: ${ch.ev.cacheMiss}`, ev.timestamp);
          this.#offer(ch.v);
          break;
        }
        for (const l of this.#trace.flushPartial(ch.v)) this.#enqueue(s, l, ev.timestamp);
        s.final = this.#finalLine(ch.v);
        // Finished steps are printed at once, as BuildKit prints completed vertices first.
        this.#print(ch.v);
        this.#next();
        return;
      }
      case 'log': {
        const s = this.#state(ch.v);
        for (const l of ch.lines) this.#enqueue(s, l, ev.timestamp);
        if (ch.lines.length > 0) this.#offer(ch.v);
        break;
      }
      case 'status': {
        const line = this.#statusLine(ch.ev);
        if (line === undefined) return;
        this.#enqueue(this.#state(ch.v), line, ev.timestamp);
        this.#offer(ch.v);
        break;
      }
      case 'warning':
        if (!ch.v) return;
        this.#enqueue(this.#state(ch.v), `WARN: ${ch.ev.message}`, ev.timestamp);
        this.#offer(ch.v);
        break;
    }
    this.#unstick(ev.timestamp);
  }

  /** Lets held-back output through when it has waited long enough (call it from a timer). */
  tick(now: number = this.#now()): void {
    if (!this.#closed) this.#unstick(now);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    // Whatever is still held back, in the order the steps appeared.
    const pending = [...this.#trace.vertices.values()].filter((v) => this.#hasOutput(v));
    if (this.#current !== undefined) {
      const cur = this.#trace.vertices.get(this.#current);
      if (cur && this.#hasOutput(cur)) this.#print(cur);
    }
    for (const v of pending) if (this.#hasOutput(v)) this.#print(v);
    let tail = errorBoxes(this.#trace) + warningList(this.#trace);
    if (this.#summary) tail += summaryLine(this.#trace, this.#now()) + firstMissLine(this.#trace);
    if (tail) this.#out.write(tail);
  }

  // ---------------------------------------------------------------------------------------------

  #state(v: TraceVertex): Shown {
    let s = this.#shown.get(v.digest);
    if (!s) this.#shown.set(v.digest, (s = { index: 0, queue: [], queuedSince: undefined, final: undefined, wantsHeader: false }));
    return s;
  }

  #enqueue(s: Shown, line: string, ts: number): void {
    if (s.queue.length === 0) s.queuedSince = ts;
    s.queue.push(line);
  }

  #hasOutput(v: TraceVertex): boolean {
    const s = this.#shown.get(v.digest);
    return s !== undefined && (s.queue.length > 0 || s.final !== undefined || s.wantsHeader);
  }

  /** Prints `v` now if nothing else holds the screen; else it waits. */
  #offer(v: TraceVertex): void {
    if (this.#current === undefined || this.#current === v.digest) this.#print(v);
  }

  /** After the current step finished: show the step that has waited longest. */
  #next(): void {
    if (this.#current !== undefined) return;
    let best: TraceVertex | undefined;
    let bestSince = Infinity;
    for (const v of this.#trace.vertices.values()) {
      const s = this.#shown.get(v.digest);
      if (!s || !this.#hasOutput(v)) continue;
      const since = s.queuedSince ?? v.intervals[v.intervals.length - 1]?.start ?? Infinity;
      if (since < bestSince) {
        best = v;
        bestSince = since;
      }
    }
    if (best) this.#print(best);
  }

  /** Anti-flicker: output held back for ANTI_FLICKER_MS interrupts the current step. */
  #unstick(now: number): void {
    for (let guard = 0; guard < this.#shown.size; guard++) {
      let stale: TraceVertex | undefined;
      for (const v of this.#trace.vertices.values()) {
        if (v.digest === this.#current) continue;
        const s = this.#shown.get(v.digest);
        if (s && s.queue.length > 0 && s.queuedSince !== undefined && now - s.queuedSince >= ANTI_FLICKER_MS) {
          stale = v;
          break;
        }
      }
      if (!stale) return;
      this.#print(stale);
    }
  }

  #print(v: TraceVertex): void {
    const s = this.#state(v);
    let out = '';
    if (this.#current !== v.digest) {
      if (this.#current !== undefined) {
        const old = this.#shown.get(this.#current);
        if (old) out += `#${old.index} ...\n`;
      }
      if (this.#printedAny) out += '\n';
      this.#printedAny = true;
      if (s.index === 0) s.index = ++this.#nextIndex;
      out += `#${s.index} ${v.name}\n`;
    }
    for (const l of s.queue) out += `#${s.index} ${l}\n`;
    s.queue = [];
    s.queuedSince = undefined;
    s.wantsHeader = false;
    if (s.final !== undefined) {
      out += `#${s.index} ${s.final}\n`;
      s.final = undefined;
      this.#current = undefined;
    } else {
      this.#current = v.digest;
    }
    if (out !== '') this.#out.write(out);
  }

  #finalLine(v: TraceVertex): string {
    if (v.error !== undefined) return `ERROR: ${v.error}`;
    if (v.canceled) return 'CANCELED';
    if (v.cached) return 'CACHED';
    return `DONE ${formatSeconds(this.#trace.duration(v, this.#trace.last ?? 0))}`;
  }

  /** BuildKit's status line, or undefined when the row changed too little to reprint it. */
  #statusLine(ev: StatusEvent): string | undefined {
    const last = this.#lastStatus.get(ev.id);
    if (last && ev.completed === undefined) {
      const share = ev.total ? (ev.current - last.current) / ev.total : 0;
      const since = ev.timestamp - last.ts;
      if (since < STATUS_MIN_MS && !(share >= STATUS_MIN_SHARE && since >= STATUS_SHARE_MS)) return undefined;
    }
    // A row shown done is not shown done again.
    if (last?.done && ev.completed !== undefined && ev.current === last.current) return undefined;
    this.#lastStatus.set(ev.id, { current: ev.current, ts: ev.timestamp, done: ev.completed !== undefined });
    let bytes = '';
    if (ev.total) bytes = ` ${formatBytes(ev.current)} / ${formatBytes(ev.total)}`;
    else if (ev.current) bytes = ` ${formatBytes(ev.current)}`;
    let tm = '';
    if (ev.started !== undefined) {
      const diff = (ev.completed ?? ev.timestamp) - ev.started;
      if (diff > 10) tm = ` ${formatSeconds(diff)}`;
    }
    if (ev.completed !== undefined) tm += ' done';
    return `${ev.name ?? ev.id}${bytes}${tm}`;
  }
}
