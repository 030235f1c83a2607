/**
 * The client's answer to a journal delta (src/client/solve-context-delta.ts) starts no libuv thread
 * pool: the first pool request of a process blocks its main thread until every pool thread has
 * started (5-15 ms on a busy machine), and on a one-file change that request stood between the
 * daemon's listing request and the build's first COPY (issue 14, s14-steps). Measured in a child
 * process of the built module (run `npm run build` first): its thread count before and after.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { describeIf } from '../helpers/skip.js';

const distModule = join(repoRoot, 'dist', 'src', 'client', 'solve-context-delta.js');

// Loaded with require(), which reads the module graph synchronously (an ESM import would start the
// pool itself); the pool's threads would start on the module's first thread-pool request.
const childScript = `
const { readdirSync } = require('node:fs');
const { listChangedPaths } = require(process.argv[1]);
const threads = () => readdirSync('/proc/self/task').length;
const before = threads();
listChangedPaths(process.argv[2], undefined, ['package.json', 'gone.txt'], new AbortController().signal).then(async (delta) => {
  await new Promise((r) => setTimeout(r, 50));
  process.stdout.write(JSON.stringify({ before, after: threads(), changed: delta?.changed.map((e) => e.stat.path), removed: delta?.removed }));
});
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-delta-pool-'));
  writeFileSync(join(dir, 'package.json'), '{"version": "1.0.1"}\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeIf(existsSync(distModule), 'needs a built dist/', 'the client answer to a journal delta', () => {
  test('lists the changed paths without starting the thread pool', () => {
    const out = execFileSync(process.execPath, ['--experimental-require-module', '--no-warnings', '-e', childScript, distModule, dir], {
      encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' },
    });
    const r = JSON.parse(out) as { before: number; after: number; changed?: string[]; removed?: string[] };
    expect(r.changed).toEqual(['package.json']);
    expect(r.removed).toEqual(['gone.txt']);
    expect(r.after).toBe(r.before);
  });
});
