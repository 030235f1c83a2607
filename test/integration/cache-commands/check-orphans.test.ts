/**
 * `tsbuild cache check` reports every kind of orphan and changes nothing (the data root's listing
 * and the database rows are the same before and after); `--repair` removes them all, after which
 * the check is clean and du adds up to the disk. Orphans are planted the way crashes and bugs
 * leave them: a snapshot whose record is gone, an unreachable blob, a ref row and a layer entry of
 * a snapshot that no longer exists, a hold, a lease, an ingest file, a scratch directory and a
 * half-made snapshot of dead processes.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { haveBusybox } from '../../helpers/busybox.js';
import { blobNames, bytesWithoutMetadata, DU_TOLERANCE, listingHash, snapshotDirs } from '../../helpers/data-root-disk.js';
import { describeIf, haveBinary, isRoot } from '../../helpers/skip.js';
import { Workspace } from '../images/workspace.js';

/** Every row of every table, for "the database did not change". */
function dbRows(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    return JSON.stringify(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}"`).all()]));
  } finally {
    db.close();
  }
}

/** A pid that was used and is now gone (its process exited). */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

describeIf(isRoot && haveBusybox && haveBinary('runc'), 'needs root, runc and busybox-static', 'cache check finds every orphan', () => {
  let ws: Workspace;
  const root = 'orphans';

  beforeAll(async () => {
    ws = await Workspace.create('orphans');
    await ws.importBusybox(root);
    const ctx = await ws.context('app', 'FROM busybox\nRUN echo one > /one\nRUN echo two > /two\n');
    await ws.ok(root, ['build', '--progress', 'plain', '-t', 'app', ctx]);
  }, 180_000);

  afterAll(async () => {
    await ws.finish();
  }, 60_000);

  test('check reports each kind and changes nothing; --repair removes them all', async () => {
    const dir = ws.root(root);
    const dbPath = join(dir, 'metadata.db');
    const dead = deadPid();
    const gone = 'f'.repeat(64);
    const orphanBlob = Buffer.from('a blob nothing references');
    const orphanDigest = createHash('sha256').update(orphanBlob).digest('hex');
    let orphanSnapshot = '';
    {
      const db = new Database(dbPath);
      try {
        const rec = db.prepare("SELECT key, result_id FROM cache_records WHERE description LIKE '%RUN echo two%'").get() as { key: string; result_id: string };
        orphanSnapshot = rec.result_id;
        db.prepare('DELETE FROM cache_records WHERE key = ?').run(rec.key);
        db.prepare('INSERT INTO refs (result_id, parent, size, created_at, last_used_at) VALUES (?, NULL, 1, 0, 0)').run(gone);
        db.prepare("INSERT INTO layer_blobs (snapshot_id, compression, blob_digest, diff_id, size, media_type, created_at, origin) VALUES (?, 'gzip', ?, ?, 1, 'x', 0, 'export')")
          .run(gone, `sha256:${orphanDigest}`, `sha256:${orphanDigest}`);
        db.prepare("INSERT INTO ref_holders (result_id, holder, pid, pid_start, acquired_at) VALUES (?, 'killed-build', ?, '1', 0)").run(orphanSnapshot, dead);
        db.prepare("INSERT INTO leases (id, label, pid, pid_start, protects, started_at) VALUES ('deadbeef', 'build', ?, '1', 1, 0)").run(dead);
      } finally {
        db.close();
      }
    }
    await writeFile(join(dir, 'content', 'blobs', 'sha256', orphanDigest), orphanBlob);
    await writeFile(join(dir, 'content', 'ingest', `${dead}-1-abcd`), 'half a blob');
    await mkdir(join(dir, 'tmp', `${dead}-1-scratch-x`));
    await mkdir(join(dir, 'overlay2', `.tmp-${dead}-1-0badf00d-${'e'.repeat(64)}`, 'diff'), { recursive: true });

    const listing = await listingHash(dir);
    const rows = dbRows(dbPath);
    const check = await ws.run(root, ['cache', 'check']);
    expect(check.code).toBe(1);
    const kinds = check.stdout.trimEnd().split('\n').slice(0, -1).map((l) => l.split(':')[0]).sort();
    expect(kinds).toEqual(['dead-lease', 'dead-ref', 'orphan-blob', 'orphan-ingest', 'orphan-layer-entry', 'orphan-ref', 'orphan-snapshot', 'orphan-tmp', 'snapshot-leftover']);
    expect(check.stdout).toContain(`orphan-snapshot: snapshot ${orphanSnapshot} (`);
    expect(check.stdout).toContain(`orphan-blob: blob sha256:${orphanDigest} (${orphanBlob.length}B) is reachable from no image and no kept snapshot\n`);
    expect(check.stdout).toMatch(/\n9 problems found/);
    // Nothing changed: not a file, not a row.
    expect(await listingHash(dir)).toBe(listing);
    expect(dbRows(dbPath)).toBe(rows);

    const repair = await ws.run(root, ['cache', 'check', '--repair']);
    expect({ code: repair.code, out: repair.stdout }).toMatchObject({ code: 0, out: expect.stringMatching(/\nok: \d+ problems? fixed\n$/) as unknown as string });
    expect((await ws.ok(root, ['cache', 'check'])).stdout).toMatch(/^ok: /);
    expect(await snapshotDirs(dir)).not.toContain(orphanSnapshot);
    expect(await blobNames(dir)).not.toContain(orphanDigest);
    const du = JSON.parse((await ws.ok(root, ['du', '--format', 'json'])).stdout) as { disk: { total: number; metadata: number } };
    expect(Math.abs(du.disk.total - du.disk.metadata - (await bytesWithoutMetadata(dir)))).toBeLessThanOrEqual(DU_TOLERANCE);
    // The image still works: rebuilding reuses what is left and restores the lost step.
    const again = await ws.ok(root, ['build', '--progress', 'plain', '-t', 'app', await ws.context('app', 'FROM busybox\nRUN echo one > /one\nRUN echo two > /two\n')]);
    expect(again.stderr).toMatch(/steps: 3 total, 2 cached, 1 executed/);
    expect((await ws.ok(root, ['cache', 'check'])).stdout).toMatch(/^ok: /);
  }, 180_000);
});
