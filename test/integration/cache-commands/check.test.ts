/**
 * `tsbuild cache check [--repair] [--deep]` on a real data root: clean after builds; a snapshot
 * directory deleted by hand and corrupt or misnamed blobs are reported (exit 1), `--repair` fixes
 * them (exit 0), and the next build re-executes the step whose snapshot was lost.
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
    const leftMounted = await ws.mounts();
    await ws.cleanup();
    expect(leftMounted).toEqual([]);
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
    // Opening the engine tidies the snapshot's dangling link first (reported as recovered).
    expect(check.stdout).toMatch(/^recovered: removed leftover .*\/overlay2\/l\/\w+$/m);
    expect(check.stdout.split('\n').filter((l) => !l.startsWith('recovered: ')).join('\n')).toBe(`missing-snapshot: cache record ${rec.key} (output 0) points at snapshot ${rec.resultId}, which does not exist\n`
      + '1 problem found (run "tsbuild cache check --repair" to fix them)\n');

    const repair = await ws.run(root, ['cache', 'check', '--repair']);
    expect({ code: repair.code, stdout: repair.stdout }).toEqual({ code: 0, stdout: `fixed missing-snapshot: cache record ${rec.key} (output 0) points at snapshot ${rec.resultId}, which does not exist\nok: 1 problem fixed\n` });
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
    expect(deep.stdout).toMatch(/2 problems found/);

    const repair = await ws.ok(root, ['cache', 'check', '--repair', '--deep']);
    expect(repair.stdout).toMatch(/fixed blob-digest-mismatch: .*\nfixed bad-blob-name: .*\nok: 2 problems fixed\n$/);
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
