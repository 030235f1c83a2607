/**
 * `tsbuild cache check [--repair] [--deep]` on a real data root: clean after builds; a snapshot
 * directory deleted by hand (and what pointed at it) and corrupt or misnamed blobs are reported
 * (exit 1) without changing anything, `--repair` fixes them (exit 0), and the next build
 * re-executes the step whose snapshot was lost.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { haveBusybox } from '../../helpers/busybox.js';
import { describeIf, isRoot } from '../../helpers/skip.js';
import { sha256 } from '../images/archives.js';
import { stepCounts, Workspace } from '../images/workspace.js';

describeIf(isRoot && haveBusybox, 'needs root and busybox-static', 'cache check', () => {
  let ws: Workspace;
  const root = 'check';
  let ctx: string;

  beforeAll(async () => {
    ws = await Workspace.create('cache-check');
    await ws.importBusybox(root);
    ctx = await ws.context('app', 'FROM busybox\nRUN echo one > /one.txt\nRUN echo two > /two.txt\n');
    await ws.ok(root, ['build', '--progress', 'plain', '-t', 'app', ctx]);
  }, 180_000);

  afterAll(async () => {
    await ws.finish();
  }, 60_000);

  test('a data root after builds is consistent', async () => {
    const r = await ws.ok(root, ['cache', 'check', '--deep']);
    expect(r.stdout).toMatch(/^ok: \d+ records and \d+ blobs checked, no problems\n$/);
  });

  test('a deleted snapshot directory is reported, repaired, and rebuilt', async () => {
    const du = JSON.parse((await ws.ok(root, ['du', '--format', 'json'])).stdout) as { records: { key: string; resultId: string; description: string }[] };
    const rec = du.records.find((r) => r.description.includes('RUN echo two'));
    if (!rec) throw new Error('no record for the last RUN step');
    await rm(join(ws.root(root), 'overlay2', rec.resultId), { recursive: true });

    const check = await ws.run(root, ['cache', 'check']);
    expect(check.code).toBe(1);
    // Everything that pointed at it is reported, nothing is changed (no recovery runs first).
    const overlay = join(ws.root(root), 'overlay2');
    const lines = check.stdout.trimEnd().split('\n');
    expect(lines).toContain(`missing-snapshot: cache record ${rec.key} (output 0) points at snapshot ${rec.resultId}, which does not exist`);
    expect(lines).toContain(`orphan-ref: ref of snapshot ${rec.resultId}, which no longer exists`);
    expect(lines.filter((l) => l.startsWith('orphan-layer-entry: ')).join('\n')).toMatch(new RegExp(`is recorded for snapshot ${rec.resultId}, which no longer exists`));
    expect(lines.filter((l) => l.startsWith('snapshot-leftover: ')).map((l) => l.replace(/ is left over.*$/, '')).sort()).toEqual([
      expect.stringMatching(new RegExp(`^snapshot-leftover: ${overlay}/[0-9a-f]{64}/children/${rec.resultId}$`)),
      expect.stringMatching(new RegExp(`^snapshot-leftover: ${overlay}/l/\\w+$`)),
    ]);
    expect(lines.at(-1)).toBe('5 problems found (run "tsbuild cache check --repair" to fix them)');
    expect((await ws.run(root, ['cache', 'check'])).stdout).toBe(check.stdout);

    const repair = await ws.run(root, ['cache', 'check', '--repair']);
    expect(repair.code).toBe(0);
    // The leftovers go with the start's recovery; the rest is repaired.
    expect(repair.stdout).toMatch(/^recovered: removed leftover .*\/overlay2\/l\/\w+$/m);
    expect(repair.stdout).toContain(`fixed missing-snapshot: cache record ${rec.key} (output 0) points at snapshot ${rec.resultId}, which does not exist\n`);
    expect(repair.stdout).toMatch(/\nok: 3 problems fixed\n$/);
    expect((await ws.ok(root, ['cache', 'check'])).stdout).toMatch(/^ok: /);

    const again = await ws.ok(root, ['build', '--progress', 'plain', '-t', 'app', ctx]);
    expect(stepCounts(again.stderr)).toEqual({ total: 3, cached: 2, executed: 1 });
    expect((await ws.ok(root, ['cache', 'check'])).stdout).toMatch(/^ok: /);
  }, 120_000);

  test('--deep finds corrupt and misnamed blobs; --repair removes them', async () => {
    const blobs = join(ws.root(root), 'content', 'blobs', 'sha256');
    const claimed = sha256('what the name claims');
    await writeFile(join(blobs, claimed.slice(7)), 'something else entirely');
    await writeFile(join(blobs, 'not-a-digest'), 'x');

    const shallow = await ws.run(root, ['cache', 'check']);
    expect(shallow.code).toBe(1);
    expect(shallow.stdout).toContain('bad-blob-name: ');
    expect(shallow.stdout).not.toContain('blob-digest-mismatch');

    const deep = await ws.run(root, ['cache', 'check', '--deep']);
    expect(deep.code).toBe(1);
    expect(deep.stdout).toContain(`blob-digest-mismatch: blob ${claimed} is corrupt: its content hashes to ${sha256('something else entirely')}\n`);
    expect(deep.stdout).toContain(`bad-blob-name: ${join(blobs, 'not-a-digest')} is not named by a sha256 digest\n`);
    // No image reaches the planted blob either.
    expect(deep.stdout).toContain(`orphan-blob: blob ${claimed} (23B) is reachable from no image and no kept snapshot\n`);
    expect(deep.stdout).toMatch(/3 problems found/);

    const repair = await ws.ok(root, ['cache', 'check', '--repair', '--deep']);
    expect(repair.stdout.split('\n').filter((l) => l.startsWith('fixed ')).map((l) => l.split(':')[0]).sort())
      .toEqual(['fixed bad-blob-name', 'fixed blob-digest-mismatch', 'fixed orphan-blob']);
    expect(repair.stdout).toMatch(/\nok: 3 problems fixed\n$/);
    expect((await ws.ok(root, ['cache', 'check', '--deep'])).stdout).toMatch(/^ok: /);
    // Images are untouched by the repair.
    expect((await ws.ok(root, ['images', '-q', 'app'])).stdout).toMatch(/^[0-9a-f]{12}\n$/);
  }, 120_000);

  test('usage', async () => {
    const r = await ws.run(root, ['cache', 'check', '--fix']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown flag: --fix/);
  });
});
