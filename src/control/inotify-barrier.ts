/**
 * A barrier on the process's inotify queue (context-journal.ts, "Soundness"): a file created in a
 * watched directory of the daemon's own, and its event awaited. The process reads one inotify queue
 * for all its watches, in order, so once the barrier's event has been delivered, so has every event
 * queued before it: a journal still clean then has seen every change made before the barrier.
 */
import { mkdirSync, readdirSync, rmSync, watch, writeFileSync } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';

export interface InotifyBarrierOptions {
  /** A directory of the daemon's own, on a local file system: barrier files are created there. */
  readonly dir: string;
  /** How long a barrier may take before the journal is not trusted. */
  readonly timeoutMs: number;
  /** Called for every event in the barrier directory: they count towards the queue's overflow check too. */
  readonly onEvent: () => void;
}

export class InotifyBarrier {
  readonly #dir: string;
  readonly #timeoutMs: number;
  readonly #onEvent: () => void;
  #watcher: FSWatcher | undefined;
  #seq = 0;
  readonly #waiting = new Map<string, (seen: boolean) => void>();

  constructor(opts: InotifyBarrierOptions) {
    this.#dir = opts.dir;
    this.#timeoutMs = opts.timeoutMs;
    this.#onEvent = opts.onEvent;
  }

  /**
   * Resolves true once every inotify event queued before this call has been delivered; false when
   * that could not be seen in time (or the barrier directory is unusable): nothing is vouched for.
   */
  async drain(): Promise<boolean> {
    try {
      return await this.#once();
    } catch {
      return false;
    }
  }

  /** Stops watching the barrier directory; barriers still waiting resolve false. */
  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    for (const done of this.#waiting.values()) done(false);
    this.#waiting.clear();
  }

  async #once(): Promise<boolean> {
    if (this.#watcher === undefined) {
      mkdirSync(this.#dir, { recursive: true });
      for (const name of readdirSync(this.#dir)) rmSync(join(this.#dir, name), { force: true });
      this.#watcher = watch(this.#dir, { persistent: false }, (_type, name) => {
        this.#onEvent();
        const done = name === null ? undefined : this.#waiting.get(name);
        if (done !== undefined) {
          this.#waiting.delete(name as string);
          done(true);
        }
      });
      this.#watcher.on('error', () => {
        // The directory went away: the next barrier makes it again.
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    }
    const name = `b${++this.#seq}`;
    let timer: NodeJS.Timeout | undefined;
    const seen = await new Promise<boolean>((resolve) => {
      this.#waiting.set(name, resolve);
      timer = setTimeout(() => { this.#waiting.delete(name); resolve(false); }, this.#timeoutMs);
      try {
        writeFileSync(join(this.#dir, name), '');
      } catch {
        this.#waiting.delete(name);
        resolve(false);
      }
    });
    clearTimeout(timer);
    rmSync(join(this.#dir, name), { force: true });
    return seen;
  }
}
