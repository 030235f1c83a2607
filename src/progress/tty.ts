/**
 * The live terminal view (BuildKit's tty display): a frame redrawn in place about 10 times a second
 * — a `[+] Building 2.1s (7/9)` header, one row per step with its elapsed time, a row with a
 * progress bar per transfer, and the last output lines of running steps — left on screen when the
 * build ends, followed by the failed steps' logs and the summary line.
 */
import { errorBoxes, firstMissLine, isBookkeeping, summaryLine, warningList } from './epilogue.js';
import { formatBytes } from './format.js';
import { Trace } from './trace.js';
import type { ProgressEvent, ProgressRenderer, RenderTarget, StatusEvent } from './types.js';

export interface TtyRendererOptions {
  readonly out: RenderTarget;
  /** Clock (ms). Default Date.now. */
  readonly now?: () => number;
  /** Redraw interval; 0 draws only on `render()` and `close()` (tests). Default 100 (10 fps). */
  readonly frameMs?: number;
  /** ANSI colors for finished, failed and cancelled rows (default true). */
  readonly color?: boolean;
  /** The word in the header (default `Building`). */
  readonly phase?: string;
  /** Print the closing summary line (default true). */
  readonly summary?: boolean;
}

const ESC = '\x1b[';
const HIDE_CURSOR = `${ESC}?25l`;
const SHOW_CURSOR = `${ESC}?25h`;
const CLEAR_LINE = `${ESC}2K`;
const BLUE = `${ESC}34m`;
const RED = `${ESC}31m`;
const YELLOW = `${ESC}33m`;
const FAINT = `${ESC}2m`;
const RESET = `${ESC}0m`;
/** Output lines shown under a running step. */
const TAIL_LINES = 6;
const BAR_WIDTH = 20;

interface Row {
  readonly text: string;
  readonly done: boolean;
  readonly color: string | undefined;
}

export class TtyRenderer implements ProgressRenderer {
  readonly #out: RenderTarget;
  readonly #now: () => number;
  readonly #frameMs: number;
  readonly #color: boolean;
  readonly #phase: string;
  readonly #summary: boolean;
  readonly #trace = new Trace({ keepLines: 10 });
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #startedAt: number;
  #lines = 0;
  #lastDraw = -Infinity;
  #closed = false;

  constructor(opts: TtyRendererOptions) {
    this.#out = opts.out;
    this.#now = opts.now ?? Date.now;
    this.#frameMs = opts.frameMs ?? 100;
    this.#color = opts.color ?? true;
    this.#phase = opts.phase ?? 'Building';
    this.#summary = opts.summary ?? true;
    this.#startedAt = this.#now();
    if (this.#frameMs > 0) {
      this.#timer = setInterval(() => this.render(), this.#frameMs);
      // The display must never keep the process alive on its own.
      this.#timer.unref();
    }
  }

  write(ev: ProgressEvent): void {
    if (this.#closed) return;
    this.#trace.apply(ev);
    if (this.#frameMs > 0 && this.#now() - this.#lastDraw >= this.#frameMs) this.render();
  }

  /** Redraws the live frame now. */
  render(): void {
    if (this.#closed) return;
    this.#draw(false);
  }

  close(): void {
    if (this.#closed) return;
    if (this.#timer) clearInterval(this.#timer);
    for (const v of this.#trace.vertices.values()) this.#trace.flushPartial(v);
    this.#draw(true);
    this.#closed = true;
    let tail = errorBoxes(this.#trace) + warningList(this.#trace);
    if (this.#summary) tail += summaryLine(this.#trace, this.#now()) + firstMissLine(this.#trace);
    if (tail) this.#out.write(tail);
  }

  // ---------------------------------------------------------------------------------------------

  #draw(final: boolean): void {
    const now = this.#now();
    this.#lastDraw = now;
    // A terminal that reports no size (0 columns, e.g. under script(1)) gets the usual 80.
    const width = Math.max(20, this.#out.columns || 80);
    const height = Math.max(4, this.#out.rows || 24);
    let rows = this.#rows(now, width, final);
    if (!final) rows = fitHeight(rows, height - 2);
    const lines = [this.#header(now, final), ...rows.map((r) => (r.color && this.#color ? `${r.color}${r.text}${RESET}` : r.text))];

    let s = HIDE_CURSOR;
    if (this.#lines > 0) s += `${ESC}${this.#lines}A`;
    s += '\r';
    for (const l of lines) s += `${CLEAR_LINE}${l}\n`;
    const extra = this.#lines - lines.length;
    if (extra > 0) {
      // The previous frame was taller: blank its leftover lines, then come back up.
      for (let i = 0; i < extra; i++) s += `${CLEAR_LINE}\n`;
      s += `${ESC}${extra}A`;
    }
    s += SHOW_CURSOR;
    this.#lines = lines.length;
    this.#out.write(s);
  }

  #header(now: number, final: boolean): string {
    const all = [...this.#trace.vertices.values()];
    const done = all.filter((v) => this.#trace.isCompleted(v)).length;
    const start = Math.min(this.#trace.first ?? this.#startedAt, this.#startedAt);
    const finished = final && done > 0 && done === all.length ? ' FINISHED' : '';
    return `[+] ${this.#phase} ${((now - start) / 1000).toFixed(1)}s (${done}/${all.length})${finished}`;
  }

  #rows(now: number, width: number, final: boolean): Row[] {
    const rows: Row[] = [];
    for (const v of this.#trace.vertices.values()) {
      const done = this.#trace.isCompleted(v);
      let name = v.name.replace(/\t/g, ' ');
      if (v.error !== undefined) name = `ERROR ${name}`;
      else if (v.canceled) name = `CANCELED ${name}`;
      if (v.cached) name = `CACHED ${name}`;
      const color = !done ? undefined : v.error !== undefined ? RED : v.canceled ? YELLOW : BLUE;
      rows.push({ text: row(' => ', name, this.#trace.duration(v, now), width), done, color });
      if (v.cacheMiss !== undefined && !v.cached && !isBookkeeping(v.name)) {
        rows.push({ text: ` => => CACHE MISS: ${v.cacheMiss}`.slice(0, width - 1), done, color: undefined });
      }
      for (const st of v.statuses.values()) {
        const end = st.completed ?? (done ? (v.intervals[v.intervals.length - 1]?.stop ?? now) : now);
        const dt = st.started === undefined ? 0 : end - st.started;
        // The final frame keeps status rows whole (`writing image sha256:…` ends with the full ID).
        rows.push({ text: row(' => => ', statusText(st, width), dt, width, final), done: st.completed !== undefined || done, color: undefined });
      }
      if (!final && !done) {
        const tail = [...v.lastLines.slice(-TAIL_LINES)];
        if (v.partial !== '') tail.push(v.partial);
        for (const l of tail.slice(-TAIL_LINES)) {
          const text = ` => => # ${l.replace(/^\S+ /, '')}`.slice(0, width - 1);
          rows.push({ text, done: false, color: FAINT });
        }
      }
    }
    return rows;
  }
}

/**
 * ` => name ... 1.2s`, the name cut to fit and the time right-aligned to the terminal width; with
 * `whole`, a name too long for the width is not cut (the line wraps) and the time follows it.
 */
function row(prefix: string, name: string, ms: number, width: number, whole = false): string {
  const sec = ms < 50 ? 0 : ms / 1000;
  const timer = ` ${sec.toFixed(1)}s`;
  const room = Math.max(1, width - prefix.length - timer.length - 1);
  if (whole && name.length > room) return `${prefix}${name}${timer}`;
  const text = name.length > room ? name.slice(0, room) : name;
  return `${prefix}${text}`.padEnd(width - timer.length - 1) + timer;
}

/**
 * A status row's text: label and bytes, and a bar while it runs and the bar fits whole (a finished
 * row shows none, as BuildKit's display: `exporting layer … 1.06MB / 1.06MB`).
 */
function statusText(st: StatusEvent, width: number): string {
  const label = st.name ?? st.id;
  if (st.total && st.completed !== undefined) return `${label} ${formatBytes(st.current)} / ${formatBytes(st.total)}`;
  if (st.total) {
    const share = Math.min(1, Math.max(0, st.current / st.total));
    const filled = Math.round(share * BAR_WIDTH);
    const bar = filled >= BAR_WIDTH ? '='.repeat(BAR_WIDTH) : `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}`.padEnd(BAR_WIDTH);
    const text = `${label} ${formatBytes(st.current)} / ${formatBytes(st.total)} [${bar}]`;
    // ` => => ` and ` 0.0s ` take 14 columns; a bar that would be cut is left out.
    return text.length <= width - 14 ? text : `${label} ${formatBytes(st.current)} / ${formatBytes(st.total)}`;
  }
  return st.current ? `${label} ${formatBytes(st.current)}` : label;
}

/**
 * Cuts a live frame to `limit` rows: finished rows go first, from the top, so running steps stay
 * visible (BuildKit's wrapHeight).
 */
function fitHeight(rows: Row[], limit: number): Row[] {
  if (rows.length <= limit) return rows;
  let drop = rows.length - limit;
  const kept = rows.filter((r) => {
    if (drop > 0 && r.done) {
      drop--;
      return false;
    }
    return true;
  });
  return kept.length > limit ? kept.slice(kept.length - limit) : kept;
}
