/**
 * A builder State's environment: an immutable, ordered KEY → VALUE list whose `set` costs O(1)
 * when a Dockerfile goes step by step (the usual case) and whose lookups cost O(log n).
 *
 * Copying the list on every ENV/ARG made conversion quadratic (20,000 ENV lines took 25 s and
 * 200,000 never finished). Instead, the versions of a list share one append-only log of
 * assignments: version n is the first n assignments. Setting a key on the newest version appends to
 * the log; setting it on an older version (a branch: a stage built on another stage that then
 * carries on, ONBUILD) copies the prefix once into a log of its own. A key's value in version n is
 * its last assignment before n, found by binary search over the key's positions in the log.
 * A replaced key keeps its first position, as Docker's env lists do.
 */

/** One environment variable; order is definition order. */
export type EnvEntry = readonly [key: string, value: string];

interface Log {
  readonly keys: string[];
  readonly values: string[];
  /** Positions in the log of each key's assignments, ascending. */
  readonly positions: Map<string, number[]>;
}

function newLog(): Log {
  return { keys: [], values: [], positions: new Map() };
}

/** Index of the last element of ascending `xs` below `limit`, or -1. */
function lastBelow(xs: readonly number[], limit: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) < limit) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

export class EnvList {
  static readonly empty = new EnvList(newLog(), 0, 0);

  /** Built on first use and kept: the ordered entries and their `KEY=VALUE` strings. */
  #entries: readonly EnvEntry[] | undefined;
  #strings: readonly string[] | undefined;
  /**
   * The strings of the version `set` made this one from (when that one had them) and the key it
   * set: this version's strings are those with one string added or replaced. Every RUN asks for
   * the strings of the env it runs with, and between two RUNs an ENV or ARG usually sets one key.
   * Dropped once this version's own strings are made.
   */
  #fromStrings: readonly string[] | undefined;
  #fromKey: string | undefined;

  private constructor(
    private readonly log: Log,
    /** This version: the first `length` assignments of the log. */
    private readonly length: number,
    /** Distinct keys in this version. */
    readonly size: number,
  ) {}

  static from(entries: Iterable<EnvEntry>): EnvList {
    let env = EnvList.empty;
    for (const [k, v] of entries) env = env.set(k, v);
    return env;
  }

  get(key: string): string | undefined {
    const pos = this.log.positions.get(key);
    if (pos === undefined) return undefined;
    const i = lastBelow(pos, this.length);
    return i < 0 ? undefined : this.log.values[pos[i] as number];
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** This list with `key` set (added at the end, or replaced in place). */
  set(key: string, value: string): EnvList {
    if (this.get(key) === value) return this;
    const isNew = !this.has(key);
    const log = this.length === this.log.keys.length ? this.log : this.copyPrefix();
    const at = log.keys.length;
    log.keys.push(key);
    log.values.push(value);
    const pos = log.positions.get(key);
    if (pos === undefined) log.positions.set(key, [at]);
    else pos.push(at);
    const next = new EnvList(log, at + 1, isNew ? this.size + 1 : this.size);
    if (this.#strings !== undefined) {
      next.#fromStrings = this.#strings;
      next.#fromKey = key;
    }
    return next;
  }

  /** Ordered entries: each key at its first position with its latest value. */
  entries(): readonly EnvEntry[] {
    if (this.#entries) return this.#entries;
    const out: EnvEntry[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < this.length; i++) {
      const k = this.log.keys[i] as string;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push([k, this.get(k) as string]);
    }
    this.#entries = out;
    return out;
  }

  /** `KEY=VALUE` strings, as ExecOp meta carries them (in `entries()` order). */
  strings(): readonly string[] {
    if (this.#strings !== undefined) return this.#strings;
    const from = this.#fromStrings;
    const key = this.#fromKey;
    let out: string[];
    if (from !== undefined && key !== undefined) {
      const entry = `${key}=${this.get(key) as string}`;
      // A new key comes last; a replaced one keeps its place (the rank of its first assignment).
      if (from.length < this.size) {
        out = [...from, entry];
      } else {
        out = from.slice();
        out[this.rank(key)] = entry;
      }
      this.#fromStrings = undefined;
      this.#fromKey = undefined;
    } else if (this.#entries !== undefined) {
      out = this.#entries.map(([k, v]) => `${k}=${v}`);
    } else {
      out = [];
      const { keys, positions } = this.log;
      for (let i = 0; i < this.length; i++) {
        const k = keys[i] as string;
        if ((positions.get(k) as number[])[0] === i) out.push(`${k}=${this.get(k) as string}`);
      }
    }
    this.#strings = out;
    return out;
  }

  /** Place of `key` (present in this version) among this version's keys in order. */
  private rank(key: string): number {
    const { keys, positions } = this.log;
    const first = (positions.get(key) as number[])[0] as number;
    let r = 0;
    for (let i = 0; i < first; i++) if ((positions.get(keys[i] as string) as number[])[0] === i) r++;
    return r;
  }

  private copyPrefix(): Log {
    const log = newLog();
    for (let i = 0; i < this.length; i++) {
      const k = this.log.keys[i] as string;
      log.keys.push(k);
      log.values.push(this.log.values[i] as string);
      const pos = log.positions.get(k);
      if (pos === undefined) log.positions.set(k, [i]);
      else pos.push(i);
    }
    return log;
  }
}
