/**
 * A Dockerfile of 200,000 instructions takes seconds to parse and convert; a build of it must
 * still stop at once on Ctrl-C/SIGTERM. Signal handlers only run when the event loop turns, so the
 * long phases (parse, typing, dispatch, marshalling) give it a turn every few thousand items and
 * then honour the abort. Turns are counted with a setImmediate chain: an abort is answered within
 * a couple of turns, and every long phase gives turns (counted, not timed: the machine is shared).
 */
import { describe, expect, test } from '@jest/globals';
import { parseDockerfileAsync } from '../../../src/frontend/dockerfile/parse.js';
import { convertDockerfile } from '../../../src/frontend/dockerfile/convert/convert.js';

const N = 200_000;

function huge(): string {
  const lines = ['FROM alpine AS base', 'ARG V=1'];
  for (let i = 2; i < N; i++) {
    switch (i % 4) {
      case 0: lines.push(`RUN echo ${i} $V`); break;
      case 1: lines.push(`ENV K${i % 64}=v${i}`); break;
      case 2: lines.push(`COPY f${i % 100} /d/`); break;
      default: lines.push(`LABEL l${i % 32}="${i}"`); break;
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Counts event-loop turns (a setImmediate chain), calling `onTurn` on each. */
class TurnCounter {
  turns = 0;
  private running = true;
  private readonly onTurn: ((turn: number) => void) | undefined;

  constructor(onTurn?: (turn: number) => void) {
    this.onTurn = onTurn;
    setImmediate(() => this.tick());
  }

  private tick(): void {
    this.turns++;
    this.onTurn?.(this.turns);
    if (this.running) setImmediate(() => this.tick());
  }

  stop(): void {
    this.running = false;
  }
}

describe('a 200,000-instruction Dockerfile answers an abort promptly', () => {
  const src = huge();

  test('parse: aborted after a few turns, it stops within two more', async () => {
    const ac = new AbortController();
    let abortedAt = -1;
    const counter = new TurnCounter((turn) => {
      if (turn === 3) {
        abortedAt = turn;
        ac.abort(new Error('SIGINT'));
      }
    });
    try {
      await expect(parseDockerfileAsync(src, { file: 'Dockerfile', signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(abortedAt).toBe(3);
      expect(counter.turns).toBeLessThanOrEqual(abortedAt + 2);
    } finally {
      counter.stop();
    }
  }, 600_000);

  test('convert: typing, dispatch and marshalling each give the event loop turns, and an abort late in the conversion stops it within two turns', async () => {
    // A full run first: how many turns the conversion gives. Each of its three phases over all
    // instructions or ops (typing, dispatching, marshalling ~N/2 ops and their metadata) must
    // give at least one turn per 4,000 items; a phase that never yields shows as too few turns.
    const ast = await parseDockerfileAsync(src, { file: 'Dockerfile' });
    const full = new TurnCounter();
    try {
      const r = await convertDockerfile(ast, { platform: 'linux/amd64' });
      expect(r.definition.bytes.length).toBeGreaterThan(0);
    } finally {
      full.stop();
    }
    expect(full.turns).toBeGreaterThanOrEqual((N / 4000) * 3);

    // Then the same conversion aborted near its end (marshalling): it stops within two turns.
    const ac = new AbortController();
    const abortAt = full.turns - 5;
    const counter = new TurnCounter((turn) => {
      if (turn === abortAt) ac.abort(new Error('SIGTERM'));
    });
    try {
      await expect(convertDockerfile(ast, { platform: 'linux/amd64', signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(ac.signal.aborted).toBe(true);
      expect(counter.turns).toBeLessThanOrEqual(abortAt + 2);
    } finally {
      counter.stop();
    }
  }, 600_000);
});
