/**
 * A map by key that drops its least recently used values once their weights add up to more than
 * `maxWeight` (a value heavier than that alone is not kept). For in-memory copies of things on disk
 * that never change under their key — the incremental COPY's manifests, layer walks — weighed by
 * their entries.
 */
export class WeighedLru<V> {
  readonly #byKey = new Map<string, V>();
  #weight = 0;

  constructor(
    private readonly maxWeight: number,
    private readonly weigh: (v: V) => number,
  ) {}

  get(key: string): V | undefined {
    const hit = this.#byKey.get(key);
    if (hit !== undefined) {
      this.#byKey.delete(key);
      this.#byKey.set(key, hit);
    }
    return hit;
  }

  /** Keeps `v` unless the key is already held (its value never changes) or `v` is too heavy. */
  set(key: string, v: V): void {
    if (this.weigh(v) > this.maxWeight || this.#byKey.has(key)) return;
    this.#byKey.set(key, v);
    this.#weight += this.weigh(v);
    for (const [old, e] of this.#byKey) {
      if (this.#weight <= this.maxWeight) break;
      this.#byKey.delete(old);
      this.#weight -= this.weigh(e);
    }
  }
}
