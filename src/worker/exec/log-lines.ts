/** Splits a process's output stream into lines for progress logs, and keeps the last few for errors. */
import { StringDecoder } from 'node:string_decoder';
import type { ExecLogLine } from './types.js';

/** Longer lines are cut into partial lines so one runaway line cannot exhaust memory. */
export const MAX_LINE_LENGTH = 64 * 1024;

export interface LineSplitterOptions {
  readonly stream: 1 | 2;
  readonly emit: (line: ExecLogLine) => void;
  /** Clock, milliseconds since the epoch. Default Date.now. */
  readonly now?: () => number;
  /** Default MAX_LINE_LENGTH. */
  readonly maxLineLength?: number;
}

/** Turns chunks of one stream into lines; UTF-8 sequences split across chunks are kept whole. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private readonly opts: LineSplitterOptions;
  private readonly max: number;

  constructor(opts: LineSplitterOptions) {
    this.opts = opts;
    this.max = opts.maxLineLength ?? MAX_LINE_LENGTH;
  }

  push(chunk: Buffer): void {
    this.consume(this.decoder.write(chunk));
  }

  /** Flushes an unterminated last line. Call once, when the stream ended. */
  end(): void {
    this.consume(this.decoder.end());
    if (this.pending !== '') this.emit(this.pending, true);
    this.pending = '';
  }

  private consume(text: string): void {
    let buf = this.pending + text;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      let line = buf.slice(0, nl);
      while (line.length > this.max) {
        this.emit(line.slice(0, this.max), true);
        line = line.slice(this.max);
      }
      this.emit(line, false);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
    while (buf.length > this.max) {
      this.emit(buf.slice(0, this.max), true);
      buf = buf.slice(this.max);
    }
    this.pending = buf;
  }

  private emit(text: string, partial: boolean): void {
    this.opts.emit({ stream: this.opts.stream, text, partial, timestamp: (this.opts.now ?? Date.now)() });
  }
}

/** The last `capacity` lines seen, oldest first. */
export class LogTail {
  private readonly lines: string[] = [];
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  add(line: string): void {
    this.lines.push(line.length > 4096 ? `${line.slice(0, 4096)}…` : line);
    if (this.lines.length > this.capacity) this.lines.shift();
  }

  snapshot(): string[] {
    return [...this.lines];
  }
}
