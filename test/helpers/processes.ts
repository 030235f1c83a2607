/**
 * Host processes seen through /proc, for tests that must prove a process is gone (a container left
 * running after its build was killed) — and waiting on such a condition with a deadline instead of
 * a fixed sleep.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface HostProcess {
  readonly pid: number;
  readonly argv: readonly string[];
}

/** Every process whose argv satisfies `match` (zombies have no argv and never match). */
export function processesWhere(match: (argv: readonly string[]) => boolean): HostProcess[] {
  const out: HostProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let raw: string;
    try {
      raw = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    if (raw === '') continue;
    const argv = raw.replace(/\0$/, '').split('\0');
    if (match(argv)) out.push({ pid: Number(name), argv });
  }
  return out;
}

/** Processes that have `word` as one of their arguments. */
export function processesWithArg(word: string): HostProcess[] {
  return processesWhere((argv) => argv.includes(word));
}

/** Polls `cond` until it returns a value other than undefined/false; throws `what` after `ms`. */
export async function waitUntil<T>(what: string, ms: number, cond: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}
