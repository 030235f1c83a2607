/**
 * Issue 14, "Incremental COPY", through the real CLI, overlay and runc: a `COPY . /app` that misses
 * because a few context files changed (edited, added, removed, touched, chmodded, given an xattr,
 * a hardlink pair split) hard-links the unchanged files from the previous layer — the step says how
 * many it linked and copied — and makes the layer a `--no-cache` build makes (same diff_id). A RUN that
 * appends to a shared file leaves the earlier layers as they were (overlay copies it up). A COPY
 * below directories the parent layers have (`RUN mkdir -p /data` then `COPY f* /data/files/`)
 * makes them in its diff/ as overlay's copy-up would, also with unusual metadata; a symlink or
 * whiteout on the way, or a destination with content, is a full copy.
 *
 * SOURCE_DATE_EPOCH clamps the times of /app and / (which a COPY sets to "now") so that builds made
 * at different seconds can make the same layer; the context's own times lie before it.
 */
import { expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { chmod, link, lstat, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getAttributeSync, setAttributeSync } from '@napi-rs/xattr';
import { describeBuilds, useBuildEnv } from '../../helpers/build-env.js';
import { BASE } from '../../helpers/build-env.js';
import { layerTar } from '../../../src/worker/diff/layer-tar.js';

const EPOCH = 1_640_995_200; // 2022-01-01
const OLD = new Date('2020-01-01T00:00:00.123Z');
const FILES = 200;

interface Inspected {
  readonly RootFS: { readonly Layers: readonly string[] };
}

function name(i: number): string {
  return `f${String(i).padStart(3, '0')}`;
}

/** The `incremental: N linked, M copied` line under the step, if any. */
function incrementalLine(stderr: string, step: string): string | undefined {
  const n = new RegExp(`^#(\\d+) \\[\\d+/\\d+\\] ${step.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').exec(stderr)?.[1];
  if (n === undefined) return undefined;
  return new RegExp(`^#${n} [0-9.]+ (incremental: .*)$`, 'm').exec(stderr)?.[1];
}

async function tarDigest(diffDir: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of layerTar(diffDir, { sourceDateEpoch: EPOCH })) h.update(chunk);
  return `sha256:${h.digest('hex')}`;
}

describeBuilds('incremental COPY', () => {
  const env = useBuildEnv();
  const epoch = ['--build-arg', `SOURCE_DATE_EPOCH=${EPOCH}`];

  const inspect = async (ref: string): Promise<Inspected> => {
    const r = await env.run(['inspect', ref]);
    expect(r.code).toBe(0);
    return (JSON.parse(r.stdout) as Inspected[])[0] as Inspected;
  };
  const build = async (ctx: string, dockerfile: string, tag: string, extra: readonly string[] = []): Promise<string> => {
    const r = await env.run(['build', '--progress=plain', ...epoch, ...extra, '-f', dockerfile, '-t', tag, ctx]);
    expect(r.stderr).not.toContain('ERROR');
    expect(r.code).toBe(0);
    return r.stderr;
  };
  /**
   * The build's own snapshots of direct copies (they leave a manifest beside diff/), oldest first.
   * Not the image's GraphDriver: images are materialized from their layer blobs on their own.
   */
  const copySnapshots = async (): Promise<string[]> => {
    const dir = join(env.root, 'overlay2');
    const found: { id: string; t: number }[] = [];
    for (const id of await readdir(dir)) {
      const st = await stat(join(dir, id, 'copy-sources.json')).catch(() => undefined);
      if (st) found.push({ id, t: st.mtimeMs });
    }
    return found.sort((a, b) => a.t - b.t).map((f) => join(dir, f.id));
  };
  /** The parent snapshot of `snap`. */
  const parentOf = async (snap: string): Promise<string> =>
    join(env.root, 'overlay2', (await readFile(join(snap, 'parent'), 'utf8')).trim());
  /** The snapshot whose parent is `snap` (the RUN on top of a COPY). */
  const childOf = async (snap: string): Promise<string> => {
    const dir = join(env.root, 'overlay2');
    const id = snap.slice(dir.length + 1);
    for (const c of await readdir(join(snap, 'children'))) {
      if ((await readFile(join(dir, c, 'parent'), 'utf8').catch(() => '')).trim() === id) return join(dir, c);
    }
    throw new Error(`no child of ${id}`);
  };

  test('a one-file edit links the rest, and the layer equals a --no-cache build', async () => {
    const files: Record<string, string> = { 'sub/deep/a.txt': 'a\n', 'h1': 'linked pair\n' };
    for (let i = 0; i < FILES; i++) files[name(i)] = `file ${i}\n`;
    const ctx = await env.context('ctx', files);
    await link(join(ctx, 'h1'), join(ctx, 'h2'));
    const dockerfile = join(env.dir, 'app.Dockerfile');
    await writeFile(dockerfile, `FROM ${BASE}\nCOPY . /app\nRUN cat /app/${name(1)} >> /app/${name(2)}\n`);
    const stamp = async (paths: readonly string[], t: Date): Promise<void> => {
      for (const p of paths) await utimes(join(ctx, p), t, t);
    };
    await stamp([...Object.keys(files), 'h2', 'sub/deep', 'sub', '.'], OLD);
    // Let the sources' change times age past the manifest's racy window (2 s), so that it vouches
    // for their xattrs by inode and ctime: the xattr given to f007 below must still be seen.
    const changed = Math.max(...(await Promise.all(Object.keys(files).map(async (p) => (await lstat(join(ctx, p))).ctimeMs))));
    const deadline = Date.now() + 10_000;
    while (Date.now() < changed + 2_100) {
      if (Date.now() > deadline) throw new Error(`the clock does not pass the context's change times (${changed})`);
      await new Promise((r) => setTimeout(r, 20));
    }

    const first = await build(ctx, dockerfile, 'v1');
    expect(incrementalLine(first, 'COPY . /app')).toBeUndefined();
    const v1 = await inspect('v1');
    expect(await copySnapshots()).toHaveLength(1);

    // Edited, added, removed, touched only, chmodded only; the hardlink pair becomes two files.
    await writeFile(join(ctx, name(3)), 'changed content\n');
    await writeFile(join(ctx, 'added.txt'), 'new\n');
    await rm(join(ctx, name(6)));
    await chmod(join(ctx, name(5)), 0o600);
    await rm(join(ctx, 'h2'));
    await writeFile(join(ctx, 'h2'), 'linked pair\n');
    await stamp([name(3), 'added.txt', 'h2', '.'], OLD);
    await stamp([name(4)], new Date('2021-01-01T00:00:00Z'));
    // An xattr changes neither content nor mtime; the layer carries it.
    setAttributeSync(join(ctx, name(7)), 'user.incremental', 'yes');

    const second = await build(ctx, dockerfile, 'v2');
    // f003 edited, f004 touched, f005 chmodded, f007 given an xattr, added.txt, and h1 and h2 (one
    // inode in the earlier layer, never linked from) are copied; sub/deep/a.txt and the other 195
    // fNNN files are linked.
    expect(incrementalLine(second, 'COPY . /app')).toBe(`incremental: ${FILES - 5 + 1} linked, 7 copied`);
    const v2 = await inspect('v2');
    const [snap1, snap2] = (await copySnapshots()) as [string, string];
    const copy1 = join(snap1, 'diff');
    const copy2 = join(snap2, 'diff');

    // The RUN appended to f002, which both COPY layers share: overlay copied it up into the RUN's
    // layer, the COPY layers still hold the old bytes and their tars still give their diff_ids.
    const shared1 = await lstat(join(copy1, 'app', name(2)));
    const shared2 = await lstat(join(copy2, 'app', name(2)));
    expect(shared2.ino).toBe(shared1.ino);
    expect(await readFile(join(copy1, 'app', name(2)), 'utf8')).toBe('file 2\n');
    expect(await readFile(join(copy2, 'app', name(2)), 'utf8')).toBe('file 2\n');
    expect(await readFile(join(await childOf(snap2), 'diff', 'app', name(2)), 'utf8')).toBe('file 2\nfile 1\n');
    expect(await tarDigest(copy1)).toBe(v1.RootFS.Layers[1]);
    expect(await tarDigest(copy2)).toBe(v2.RootFS.Layers[1]);
    // h1 and h2 are one inode in v1's layer, separate files in v2's.
    expect((await lstat(join(copy1, 'app', 'h2'))).ino).toBe((await lstat(join(copy1, 'app', 'h1'))).ino);
    expect((await lstat(join(copy2, 'app', 'h2'))).ino).not.toBe((await lstat(join(copy2, 'app', 'h1'))).ino);

    const full = await build(ctx, dockerfile, 'v3', ['--no-cache']);
    expect(incrementalLine(full, 'COPY . /app')).toBeUndefined();
    const v3 = await inspect('v3');
    expect(v3.RootFS.Layers).toEqual(v2.RootFS.Layers);
    expect(v2.RootFS.Layers[1]).not.toBe(v1.RootFS.Layers[1]);
  }, 300_000);

  /** Context files f000…, g000…, h000… (FILES, 20, 20), with old times. */
  const fileContext = async (dir: string, extra: Readonly<Record<string, string>> = {}): Promise<string> => {
    const files: Record<string, string> = { ...extra };
    for (let i = 0; i < FILES; i++) files[name(i)] = `file ${i}\n`;
    for (let i = 0; i < 20; i++) files[`g${i}`] = files[`h${i}`] = `other ${i}\n`;
    const ctx = await env.context(dir, files);
    for (const p of [...Object.keys(files), '.']) await utimes(join(ctx, p), OLD, OLD);
    return ctx;
  };
  /**
   * Edits context file `file` (copied only by `step`, so that step's parent is unchanged and its
   * earlier run counts), rebuilds, then builds the same state with --no-cache: the image layers and
   * the rebuilt step's own diff/ (as a tar) must equal the --no-cache build's. Returns the step's
   * `incremental:` line and, when it has one, its snapshot (the rebuild's new direct copy that
   * wrote `marker`).
   */
  const editAndRebuild = async (
    ctx: string, dockerfile: string, tag: string,
    edit: { file: string; step: string; layer: number; marker: string; check?: (snap: string) => Promise<void> },
  ): Promise<string | undefined> => {
    const { file, step, layer } = edit;
    await writeFile(join(ctx, file), 'changed content\n');
    await utimes(join(ctx, file), OLD, OLD);
    const before = new Set(await copySnapshots());
    const second = await build(ctx, dockerfile, `${tag}-inc`);
    expect(second).toMatch(`CACHE MISS: ${file} changed`);
    const v2 = await inspect(`${tag}-inc`);
    const line = incrementalLine(second, step);
    if (line !== undefined) {
      // Checked before the --no-cache build, whose equal result takes the cache record's place.
      let snap: string | undefined;
      for (const s of await copySnapshots()) {
        if (!before.has(s) && (await lstat(join(s, 'diff', edit.marker)).catch(() => undefined))) snap = s;
      }
      if (snap === undefined) throw new Error(`no new direct copy wrote ${edit.marker}`);
      expect(await tarDigest(join(snap, 'diff'))).toBe(v2.RootFS.Layers[layer]);
      await edit.check?.(snap);
    }
    const full = await build(ctx, dockerfile, `${tag}-full`, ['--no-cache']);
    expect(full).not.toMatch(/incremental:/);
    const v3 = await inspect(`${tag}-full`);
    expect(v3.RootFS.Layers).toEqual(v2.RootFS.Layers);
    return line;
  };

  test('a COPY below a directory an earlier step made (the seed Dockerfile) is incremental, and its layer equals a --no-cache build', async () => {
    const ctx = await fileContext('ctx-seed', { a: 'a\n' });
    const dockerfile = join(env.dir, 'seed.Dockerfile');
    const step = 'COPY f* /data/files/';
    await writeFile(dockerfile, `FROM ${BASE}\nRUN mkdir -p /data\nCOPY a /data/a\n${step}\nRUN ls /data/files | wc -l > /count\n`);
    await build(ctx, dockerfile, 'seed');
    // The copied-up /data in the incremental copy's diff/ is the one of the layer below (but for its
    // mtime, moved by creating files/ in it, as through overlayfs).
    const check = async (snap: string): Promise<void> => {
      const mine = await lstat(join(snap, 'diff', 'data'));
      const lower = await lstat(join(await parentOf(snap), 'diff', 'data'));
      expect([mine.mode, mine.uid, mine.gid]).toEqual([lower.mode, lower.uid, lower.gid]);
    };
    const line = await editAndRebuild(ctx, dockerfile, 'seed', { file: name(7), step, layer: 3, marker: 'data/files', check });
    expect(line).toBe(`incremental: ${FILES - 1} linked, 1 copied`);
  }, 300_000);

  test('copied-up ancestors keep unusual metadata (mode, owner, xattr, times); an existing empty destination is incremental too', async () => {
    const ctx = await fileContext('ctx-meta', { 'meta/data/keep': 'keep\n' });
    await chmod(join(ctx, 'meta/data'), 0o2750);
    setAttributeSync(join(ctx, 'meta/data'), 'user.ancestor', 'kept');
    const t = new Date('2019-06-01T00:00:00.999Z');
    await utimes(join(ctx, 'meta/data/keep'), OLD, OLD);
    await utimes(join(ctx, 'meta/data'), t, t);
    await utimes(join(ctx, 'meta'), OLD, OLD);
    const dockerfile = join(env.dir, 'meta.Dockerfile');
    const deep = 'COPY f* /top/data/files/';
    const into = 'COPY g* ./';
    await writeFile(dockerfile, `FROM ${BASE}\nCOPY --chown=1234:5678 meta/ /top/\n${deep}\nWORKDIR /app\n${into}\n`);
    await build(ctx, dockerfile, 'meta');
    const g = await editAndRebuild(ctx, dockerfile, 'meta-g', { file: 'g7', step: into, layer: 4, marker: 'app/g0' });
    expect(g).toBe('incremental: 19 linked, 1 copied');
    const check = async (snap: string): Promise<void> => {
      const lowerSnap = await parentOf(snap);
      for (const rel of ['top', 'top/data']) {
        const mine = await lstat(join(snap, 'diff', rel), { bigint: true });
        const lower = await lstat(join(lowerSnap, 'diff', rel), { bigint: true });
        expect([mine.mode, mine.uid, mine.gid]).toEqual([lower.mode, lower.uid, lower.gid]);
        // /top only receives the copied-up /top/data: its mtime stays the lower's, to the nanosecond.
        if (rel === 'top') expect(mine.mtimeNs).toBe(lower.mtimeNs);
      }
      const data = await lstat(join(snap, 'diff', 'top/data'));
      expect([data.mode & 0o7777, data.uid, data.gid]).toEqual([0o2750, 1234, 5678]);
      expect(getAttributeSync(join(snap, 'diff', 'top/data'), 'user.ancestor')?.toString()).toBe('kept');
      expect(await lstat(join(snap, 'diff/top/data/keep')).catch(() => undefined)).toBeUndefined();
    };
    const f = await editAndRebuild(ctx, dockerfile, 'meta-f', { file: name(7), step: deep, layer: 2, marker: 'top/data/files', check });
    expect(f).toBe(`incremental: ${FILES - 1} linked, 1 copied`);
  }, 300_000);

  test('an ancestor that is a symlink, a whiteout above the destination, or a destination with content: done in full', async () => {
    const ctx = await fileContext('ctx-fallback');
    const dockerfile = join(env.dir, 'fallback.Dockerfile');
    const steps = ['COPY f* /link/files/', 'COPY g* /gone/files/', 'COPY h* /etc/'];
    await writeFile(dockerfile, `FROM ${BASE}\nRUN mkdir -p /real /gone/files && ln -s /real /link\nRUN rm -r /gone/files\n${steps.join('\n')}\n`);
    await build(ctx, dockerfile, 'fallback');
    const cases = [
      { file: 'h7', step: steps[2] as string, layer: 5, marker: 'etc' },
      { file: 'g7', step: steps[1] as string, layer: 4, marker: 'gone' },
      { file: name(7), step: steps[0] as string, layer: 3, marker: 'real' },
    ];
    for (const c of cases) expect(await editAndRebuild(ctx, dockerfile, `fb-${c.file}`, c)).toBeUndefined();
  }, 300_000);
});
