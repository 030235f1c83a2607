/**
 * Error types shared by every layer. Each carries a stable `code` callers match on; errors caused
 * by user input also carry a source location so the CLI can print `file:line:col: message`.
 */

/** A position in a user-supplied file. Lines and columns are 1-based. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Last line of the construct (inclusive), when it spans several lines. */
  readonly endLine?: number;
}

export interface TsbuildErrorOptions {
  readonly cause?: unknown;
  readonly location?: SourceLocation;
  /** The offending source line, shown under the message. */
  readonly sourceLine?: string;
  /**
   * Extra lines of detail shown after the message (e.g. the last log lines of a failed RUN). Lines
   * from the first one starting `hint: ` on are advice: printed even when a progress display
   * already showed the log lines (they travel as detail lines, so they cross the daemon's wire too).
   */
  readonly detail?: readonly string[];
}

/** The advice part of an error's detail lines (see TsbuildErrorOptions.detail). */
export function hintLines(detail: readonly string[]): readonly string[] {
  const i = detail.findIndex((l) => l.startsWith('hint: '));
  return i < 0 ? [] : detail.slice(i);
}

/**
 * The classes an error was made as, by brand (see TsbuildError's Symbol.hasInstance). A registered
 * symbol: the same key in every copy of this module.
 */
const BRANDS = Symbol.for('tsbuild.error-brands');

/** The brands of `ctor` and its base classes, for a new error's BRANDS property. */
function brandsOf(ctor: unknown): readonly string[] {
  const out: string[] = [];
  for (let c = ctor; typeof c === 'function'; c = Object.getPrototypeOf(c)) {
    if (Object.hasOwn(c, 'brand')) out.push((c as unknown as { brand: string }).brand);
  }
  return out;
}

export class TsbuildError extends Error {
  /**
   * The installed CLI runs two bundles with a copy of this module each (scripts/bundle.mjs: the
   * command line, and the engine it loads only to build in-process), so an error the engine throws
   * is not an instance of the command line's classes by prototype. `instanceof` on these classes
   * therefore also accepts an error whose brands (recorded at construction) include the class's own
   * `brand`. Each class here declares one; a subclass elsewhere that is matched across the two
   * bundles needs its own too.
   */
  static readonly brand: string = 'TsbuildError';

  static override [Symbol.hasInstance](v: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, v)) return true;
    if (typeof v !== 'object' || v === null || !Object.hasOwn(this, 'brand')) return false;
    const brands = (v as { [BRANDS]?: unknown })[BRANDS];
    return Array.isArray(brands) && brands.includes((this as unknown as { brand: string }).brand);
  }

  readonly code: string;
  readonly location: SourceLocation | undefined;
  /** The offending source line; front ends may attach it later (see attachSource). */
  sourceLine: string | undefined;
  readonly detail: readonly string[];
  /** Set when a progress display already showed `detail` (the log excerpt), so it is not repeated. */
  detailShown = false;

  constructor(code: string, message: string, opts: TsbuildErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TsbuildError';
    this.code = code;
    this.location = opts.location;
    this.sourceLine = opts.sourceLine;
    this.detail = opts.detail ?? [];
    Object.defineProperty(this, BRANDS, { value: brandsOf(new.target) });
  }

  /** Attaches the source line of the error's location when it lies in `file` and none is set. */
  attachSource(file: string, lines: readonly string[]): this {
    const l = this.location;
    if (this.sourceLine === undefined && l && l.file === file) this.sourceLine = lines[l.line - 1];
    return this;
  }

  /** `file:line:col: message` when located, else the message. */
  describe(): string {
    const l = this.location;
    return l ? `${l.file}:${l.line}:${l.column}: ${this.message}` : this.message;
  }
}

/** Bad input the user can fix (Dockerfile, flags, context). Exit code 1. */
export class UserInputError extends TsbuildError {
  static override readonly brand: string = 'UserInputError';

  constructor(code: string, message: string, opts: TsbuildErrorOptions = {}) {
    super(code, message, opts);
    this.name = 'UserInputError';
  }
}

/** Wrong command-line usage (unknown command or flag). Exit code 2. */
export class UsageError extends TsbuildError {
  static override readonly brand: string = 'UsageError';

  constructor(message: string, opts: TsbuildErrorOptions = {}) {
    super('USAGE', message, opts);
    this.name = 'UsageError';
  }
}

/** The operation was cancelled through an AbortSignal. */
export class CancelledError extends TsbuildError {
  static override readonly brand: string = 'CancelledError';

  constructor(reason?: unknown) {
    super('CANCELLED', reason instanceof Error ? `cancelled: ${reason.message}` : 'cancelled', { cause: reason });
    this.name = 'CancelledError';
  }
}

export function isTsbuildError(e: unknown): e is TsbuildError {
  return e instanceof TsbuildError;
}

/** Throws a CancelledError carrying the signal's reason when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  // A reason that already is a cancellation is thrown as is ("cancelled: cancelled: …" otherwise).
  throw signal.reason instanceof CancelledError ? signal.reason : new CancelledError(signal.reason);
}

/** For exhaustive switches over discriminated unions. */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}

/** Message of an unknown thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof TsbuildError) return e.describe();
  if (e instanceof Error) return e.message;
  return String(e);
}
