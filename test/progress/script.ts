/** Scripted progress events and output recorders for renderer tests. */
import type { LogEvent, StatusEvent, VertexEvent, WarningEvent } from '../../src/progress/types.js';

/** Builds events for vertices named by short ids; remembers names and start times. */
export function script() {
  const names = new Map<string, string>();
  const starts = new Map<string, number>();
  const digest = (id: string): string => `sha256:${id}`;
  const vertex = (id: string, state: VertexEvent['state'], ts: number, extra: Partial<VertexEvent> = {}): VertexEvent => ({
    type: 'vertex',
    digest: digest(id),
    name: names.get(id) ?? id,
    state,
    timestamp: ts,
    ...extra,
  });
  return {
    digest,
    start(id: string, name: string, ts: number): VertexEvent {
      names.set(id, name);
      starts.set(id, ts);
      return vertex(id, 'started', ts, { started: ts });
    },
    cached(id: string, name: string, ts: number): VertexEvent {
      names.set(id, name);
      return vertex(id, 'cached', ts, { started: ts, completed: ts });
    },
    done(id: string, ts: number): VertexEvent {
      return vertex(id, 'completed', ts, { started: starts.get(id) ?? ts, completed: ts });
    },
    error(id: string, message: string, ts: number): VertexEvent {
      return vertex(id, 'error', ts, { started: starts.get(id) ?? ts, completed: ts, error: message });
    },
    canceled(id: string, ts: number): VertexEvent {
      return vertex(id, 'canceled', ts, { started: starts.get(id) ?? ts, completed: ts });
    },
    log(id: string, data: string, ts: number, stream: 1 | 2 = 1): LogEvent {
      return { type: 'log', vertex: digest(id), stream, data, timestamp: ts };
    },
    status(id: string, row: string, ts: number, o: { current: number; total?: number; started?: number; completed?: number }): StatusEvent {
      return { type: 'status', vertex: digest(id), id: row, timestamp: ts, ...o };
    },
    warn(id: string | undefined, message: string, ts: number): WarningEvent {
      return { type: 'warning', ...(id === undefined ? {} : { vertex: digest(id) }), message, timestamp: ts };
    },
  };
}

/** A RenderTarget that keeps everything written. */
export class Recorder {
  readonly chunks: string[] = [];
  readonly isTTY: boolean;
  readonly columns: number;
  readonly rows: number;

  constructor(opts: { isTTY?: boolean; columns?: number; rows?: number } = {}) {
    this.isTTY = opts.isTTY ?? false;
    this.columns = opts.columns ?? 80;
    this.rows = opts.rows ?? 24;
  }

  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }

  get text(): string {
    return this.chunks.join('');
  }
}

/**
 * A minimal terminal: applies what the tty renderer writes (cursor up, clear line, carriage return,
 * newline; colors and cursor visibility ignored) and returns the screen's lines.
 */
export function screen(output: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (ch: string): void => {
    const l = lines[row] ?? '';
    lines[row] = l.padEnd(col).slice(0, col) + ch + l.slice(col + 1);
    col++;
  };
  for (let i = 0; i < output.length; i++) {
    const c = output[i] as string;
    if (c === '\x1b' && output[i + 1] === '[') {
      const m = /^\x1b\[(\??)(\d*)([A-Za-z])/.exec(output.slice(i));
      if (!m) throw new Error(`unknown escape at ${i}: ${JSON.stringify(output.slice(i, i + 8))}`);
      const n = m[2] === '' ? 1 : Number(m[2]);
      switch (m[3]) {
        case 'A':
          row = Math.max(0, row - n);
          break;
        case 'K':
          lines[row] = '';
          break;
        case 'm':
        case 'l':
        case 'h':
          break;
        default:
          throw new Error(`unexpected escape ${m[0]}`);
      }
      i += m[0].length - 1;
      continue;
    }
    if (c === '\r') {
      col = 0;
    } else if (c === '\n') {
      row++;
      col = 0;
      if (lines.length <= row) lines.push('');
    } else {
      put(c);
    }
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => l.trimEnd());
}
