/**
 * The progress pub/sub of one build: writers (solver, worker, exporter) write events; listeners
 * (renderers) and async-iterable readers (the daemon's Status stream) consume them. A reader may
 * start late and replay the build from its first event, as BuildKit's status stream does.
 */
import type { ProgressEvent, ProgressWriter } from './types.js';

export interface ProgressStreamOptions {
  /** Keep every event so readers can replay from the start (default true). */
  readonly keepHistory?: boolean;
}

export interface ReaderOptions {
  /** Ends the iteration early (the reader returns `done`). */
  readonly signal?: AbortSignal;
  /** Start with every event written so far (default true; needs keepHistory). */
  readonly replay?: boolean;
}

type Listener = (ev: ProgressEvent) => void;

export class ProgressStream implements ProgressWriter {
  readonly #listeners = new Set<Listener>();
  readonly #closers = new Set<() => void>();
  readonly #history: ProgressEvent[] | undefined;
  #closed = false;

  constructor(opts: ProgressStreamOptions = {}) {
    this.#history = opts.keepHistory === false ? undefined : [];
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Events written so far (empty without history). */
  history(): readonly ProgressEvent[] {
    return this.#history ?? [];
  }

  write(ev: ProgressEvent): void {
    if (this.#closed) return;
    this.#history?.push(ev);
    for (const l of this.#listeners) {
      try {
        l(ev);
      } catch {
        // One broken consumer must not starve the others or fail the build.
      }
    }
  }

  /** Ends the stream: listeners get no more events, readers finish after draining. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    for (const c of [...this.#closers]) c();
    this.#closers.clear();
  }

  /** Calls `listener` synchronously for each new event until the returned function is called. */
  subscribe(listener: Listener): () => void {
    if (this.#closed) return () => undefined;
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Calls `onClose` once when the stream closes (at once if it already has). */
  onClose(onClose: () => void): () => void {
    if (this.#closed) {
      onClose();
      return () => undefined;
    }
    this.#closers.add(onClose);
    return () => {
      this.#closers.delete(onClose);
    };
  }

  /** An async iterator over the events; it finishes when the stream closes or `signal` aborts. */
  reader(opts: ReaderOptions = {}): AsyncIterableIterator<ProgressEvent> {
    const queue: ProgressEvent[] = opts.replay === false ? [] : [...(this.#history ?? [])];
    let ended = false;
    let wake: (() => void) | undefined;
    const poke = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const unsubscribe = this.subscribe((ev) => {
      queue.push(ev);
      poke();
    });
    const end = (): void => {
      ended = true;
      unsubscribe();
      unClose();
      opts.signal?.removeEventListener('abort', onAbort);
      poke();
    };
    const unClose = this.onClose(() => {
      ended = true;
      poke();
    });
    const onAbort = (): void => {
      queue.length = 0;
      end();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });

    const iterator: AsyncIterableIterator<ProgressEvent> = {
      next: async (): Promise<IteratorResult<ProgressEvent>> => {
        for (;;) {
          const ev = queue.shift();
          if (ev) return { value: ev, done: false };
          if (ended) {
            end();
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      },
      return: async (): Promise<IteratorResult<ProgressEvent>> => {
        queue.length = 0;
        end();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}

/** A writer that sends each event to several writers (e.g. a renderer and a history recorder). */
export function teeWriter(...writers: readonly ProgressWriter[]): ProgressWriter {
  return {
    write(ev) {
      for (const w of writers) {
        try {
          w.write(ev);
        } catch {
          // see ProgressStream.write
        }
      }
    },
  };
}
