/**
 * `tsbuild du` and `tsbuild prune` on a real build cache: du lists the records a build left,
 * prune's limits and filters keep what they should, `prune --all` frees everything and the next
 * build executes its steps again; bad flag values are usage errors.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { haveBusybox } from '../../helpers/busybox.js';
import { describeIf, isRoot } from '../../helpers/skip.js';
import { stepCounts, Workspace } from '../images/workspace.js';

interface DuJson {
  records: { key: string; resultId: string; recordType: string; description: string; size: number; inUse: boolean }[];
  totalBytes: number;
  reclaimableBytes: number;
  contentBytes: number;
}

const DOCKERFILE = 'FROM busybox\nRUN head -c 300000 /bin/busybox > /blob.bin\nRUN echo second > /second.txt\n';

describeIf(isRoot && haveBusybox, 'needs root and busybox-static', 'du and prune', () => {
  let ws: Workspace;
  const root = 'cache';
  let ctx: string;

  const du = async (): Promise<DuJson> => JSON.parse((await ws.ok(root, ['du', '--format', 'json'])).stdout) as DuJson;

  beforeAll(async () => {
    ws = await Workspace.create('du-prune');
    await ws.importBusybox(root);
    ctx = await ws.context('app', DOCKERFILE);
    const r = await ws.ok(root, ['build', '--progress', 'plain', '-t', 'app', ctx]);
    expect(stepCounts(r.stderr).executed).toBe(3);
  }, 180_000);

  afterAll(async () => {
    await ws.finish();
  }, 60_000);

  test('du shows the records a build left', async () => {
    const table = (await ws.ok(root, ['du'])).stdout;
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^ID\s+RECLAIMABLE\s+SIZE\s+LAST ACCESSED\s+DESCRIPTION$/);
    expect(table).toMatch(/\n[0-9a-f]{25}\*?\s+true\s+\d+(\.\d+)?kB\s+.* ago\s+\[2\/3\] RUN head -c 300000 \/bin\/busybox > \/blob\.bin\n/);
    expect(table).toMatch(/\[3\/3\] RUN echo second > \/second\.txt/);
    expect(table).toMatch(/docker\.io\/library\/busybox:latest layer 1\/1/);
    expect(table).toMatch(/\nTotal:\s+\d+(\.\d+)?[kM]B\n/);

    const json = await du();
    const run = json.records.find((r) => r.description.includes('RUN head'));
    expect(run).toEqual(expect.objectContaining({ recordType: 'regular', inUse: false }));
    expect(run?.size).toBeGreaterThanOrEqual(300_000);
    expect(json.totalBytes).toBeGreaterThan(300_000);

    const verbose = (await ws.ok(root, ['du', '--verbose'])).stdout;
    expect(verbose).toMatch(/ID:\s+sha256:[0-9a-f]{64}\nOutput:\s+0\nSnapshot:\s+[0-9a-f]{64}\nParent:\s+[0-9a-f]{64}\n/);
    expect(verbose).toMatch(/Description:\s+\[3\/3\] RUN echo second > \/second\.txt\nUsage count:\s+\d+\nLast used:\s+.* ago\nType:\s+regular\n/);
  });

  describe('prune keeps what it should', () => {
    test('without -f it asks, and "n" (or no answer) keeps everything', async () => {
      const before = await du();
      const r = await ws.ok(root, ['prune'], { input: 'n\n' });
      expect(r.stdout).toBe('WARNING! This will remove all dangling build cache. Are you sure you want to continue? [y/N] ');
      expect((await ws.ok(root, ['prune', '--all'], { input: '' })).stdout).toMatch(/WARNING! This will remove all build cache\./);
      expect((await du()).records).toHaveLength(before.records.length);
    });

    test('--keep-storage, --keep-duration and filters select nothing here', async () => {
      const before = await du();
      for (const args of [['--keep-storage', '10GB'], ['--keep-duration', '24h'], ['--filter', 'type=exec.cachemount'], ['--filter', 'description=no such step'], ['--filter', 'until=1h30m']]) {
        const r = await ws.ok(root, ['prune', '-f', '--all', ...args]);
        expect({ args, out: r.stdout }).toEqual({ args, out: 'Total reclaimed space: 0B\n' });
      }
      expect((await du()).records).toHaveLength(before.records.length);
    }, 60_000);

    test('--filter type=regular with --keep-storage removes only what the limit needs, children first', async () => {
      const before = await du();
      // The limit counts the records the filter selects, each snapshot once.
      const regular = new Map(before.records.filter((x) => x.recordType === 'regular').map((x) => [x.resultId, x.size]));
      const regularBytes = [...regular.values()].reduce((a, b) => a + b, 0);
      const r = await ws.ok(root, ['prune', '-f', '--filter', 'type=regular', '--keep-storage', String(regularBytes - 1)]);
      // One step has to go: the last one, since the other RUN step's snapshot is its parent.
      expect(r.stdout).toMatch(/^Deleted build cache objects:\nsha256:[0-9a-f]{64}\t\[3\/3\] RUN echo second > \/second\.txt\n\nTotal reclaimed space: \d+(\.\d+)?kB\n$/);
      const after = await du();
      expect(after.records.map((x) => x.description).sort()).toEqual(before.records.map((x) => x.description).filter((d) => !d.includes('RUN echo second')).sort());
    });
  });

  test('prune --all frees everything; the next build executes again', async () => {
    const r = await ws.ok(root, ['prune', '--all'], { input: 'y\n' });
    // The answer is read from a pipe, so no newline follows the question (as with docker).
    expect(r.stdout).toMatch(/\[y\/N\] Deleted build cache objects:\n/);
    expect(r.stdout).toMatch(/\nTotal reclaimed space: \d+(\.\d+)?[kM]B\n$/);
    const after = await du();
    expect(after.records).toEqual([]);
    expect(after.totalBytes).toBe(0);
    // The image store keeps its blobs: the images are still there and buildable from.
    expect((await ws.ok(root, ['images', '-q', 'app'])).stdout).not.toBe('');
    const again = await ws.ok(root, ['build', '--progress', 'plain', '-t', 'app', ctx]);
    expect(stepCounts(again.stderr)).toEqual({ total: 3, cached: 0, executed: 3 });
    expect((await du()).records.length).toBeGreaterThan(0);
  }, 120_000);

  test('bad values are usage errors (exit 2, one line)', async () => {
    const cases: [string[], RegExp][] = [
      [['--keep-storage', 'lots'], /invalid value "lots" for --keep-storage: expected a size such as 512MB, 2GB or 500MiB/],
      [['--keep-storage', '-5GB'], /invalid value "-5GB" for --keep-storage/],
      [['--keep-duration', '5 minutes'], /invalid value "5 minutes" for --keep-duration: expected a duration such as 30m, 24h or 7d/],
      [['--filter', 'type=regulr'], /invalid filter type "regulr" \(did you mean regular\?\): expected one of regular, source\.local/],
      [['--filter', 'typ=regular'], /invalid filter "typ" \(did you mean type\?\)/],
      [['--filter', 'until=soon'], /invalid value "soon" for --filter until/],
      [['--filter', 'regular'], /invalid value "regular" for --filter: expected KEY=VALUE/],
      [['extra'], /accepts no arguments/],
    ];
    for (const [args, message] of cases) {
      const r = await ws.run(root, ['prune', '-f', ...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    const bad = await ws.run(root, ['du', '--format', 'xml']);
    expect(bad.code).toBe(2);
  }, 120_000);
});
