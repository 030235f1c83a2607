/**
 * The lazy command table (cmd/commands/index.ts) names each command by the same words as the
 * command's own file: the table is what `tsbuild WORDS` is matched against before the file loads,
 * so a name or alias that differs would select nothing (or the wrong command).
 */
import { expect, test } from '@jest/globals';
import { commands } from '../../cmd/commands/index.js';

test('each entry loads the command its words name', async () => {
  for (const entry of commands) {
    const cmd = await entry.load();
    expect({ name: cmd.name, aliases: cmd.aliases ?? [] }).toEqual({ name: entry.name, aliases: entry.aliases ?? [] });
  }
});

test('no two entries share a word', () => {
  const words = commands.flatMap((c) => [c.name, ...(c.aliases ?? [])]);
  expect(new Set(words).size).toBe(words.length);
});
