/**
 * Several processes on one data root, and crashes: a killed engine's mounts and active snapshots
 * are cleaned by the next engine's cleanupStale(); two engines racing prepare/remove never leave a
 * child without its parent. The other processes run the built snapshotter (dist/).
 */
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Overlay2Snapshotter } from '../../../src/worker/snapshot/overlay2-snapshotter.js';
import { repoRoot } from '../../helpers/paths.js';
import { describeIf } from '../../helpers/skip.js';
import { canMount, makeTempDir, mountsUnder, removeTempDir, whyNoMount } from './fixtures.js';

const distModule = join(repoRoot, 'dist', 'src', 'worker', 'snapshot', 'overlay2-snapshotter.js');
const haveDist = existsSync(distModule);

interface Child {
  readonly pid: number;
  /** Resolves with the first stdout line. */
  readonly firstLine: Promise<string>;
  readonly exit: Promise<{ code: number | null; stdout: string; stderr: string }>;
  kill(): void;
}

/** Runs `body` (an async function body with `Snap`, `root` and `args` in scope) in a new node process. */
function runChild(root: string, body: string, args: readonly string[] = []): Child {
  const code = `import { Overlay2Snapshotter as Snap } from ${JSON.stringify(distModule)};
const root = process.env.ROOT; const args = JSON.parse(process.env.ARGS);
try { await (async () => { ${body} })(); } catch (e) { console.error(e.code ?? '', e.message); process.exit(3); }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, NODE_OPTIONS: '', ROOT: root, ARGS: JSON.stringify(args) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let resolveLine: (s: string) => void = () => undefined;
  const firstLine = new Promise<string>((r) => (resolveLine = r));
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.includes('\n')) resolveLine(out.split('\n')[0] ?? '');
  });
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (c) => {
      resolveLine(out);
      resolve({ code: c, stdout: out, stderr: err });
    });
  });
  return { pid: child.pid ?? 0, firstLine, exit, kill: () => child.kill('SIGKILL') };
}

describeIf(canMount && haveDist, canMount ? 'run `npm run build` first (other processes run dist/)' : whyNoMount, 'snapshots across processes', () => {
  let root: string;
  let snap: Overlay2Snapshotter;

  beforeEach(async () => {
    root = await makeTempDir();
    snap = new Overlay2Snapshotter({ root });
  });
  afterEach(async () => {
    await snap.close();
    await removeTempDir(root);
  });

  test('a killed engine leaves mounts and an active snapshot that cleanupStale() removes', async () => {
    const base = await snap.prepare();
    await writeFile(join(base.upperDir, 'a'), 'A');
    await snap.commit(base);
    // Our own live view must survive the other engine's crash cleanup.
    const ours = await snap.view(base.id);

    const child = runChild(root, `
      const s = new Snap({ root });
      const a = await s.prepare({ parent: args[0] });
      await s.mount(a);
      await s.view(args[0]);
      const b = await s.prepare({ parent: args[0] });
      console.log(JSON.stringify({ active: a.id, unmounted: b.id }));
      await new Promise(() => setInterval(() => undefined, 1000));`, [base.id]);
    const ready = JSON.parse(await child.firstLine) as { active: string; unmounted: string };
    expect((await mountsUnder(root)).length).toBe(3);
    const owner = await readFile(join(root, 'overlay2', ready.active, 'owner'), 'utf8');
    child.kill();
    await child.exit;

    // Leftovers of a crash mid-prepare and mid-remove, and a remove marker of the dead process.
    const dir = join(root, 'overlay2');
    await mkdir(join(dir, `.tmp-${owner}-${'a'.repeat(64)}`, 'diff'), { recursive: true });
    await mkdir(join(dir, `.trash-${owner}-${'b'.repeat(64)}`, 'diff'), { recursive: true });
    await symlink(`../${'c'.repeat(64)}/diff`, join(dir, 'l', 'ZZZZZZ'));
    await writeFile(join(dir, base.id, 'removing'), owner);
    // A temp dir of a live process (ours) is not touched.
    const liveTmp = join(dir, `.tmp-${basename(ours.path)}-${'d'.repeat(64)}`);
    await mkdir(liveTmp);

    const report = await new Overlay2Snapshotter({ root }).cleanupStale();
    expect([...report.unmounted].sort()).toEqual([join(dir, ready.active, 'merged'), join(dir, base.id, 'views', owner)].sort());
    expect([...report.removedSnapshots].sort()).toEqual([ready.active, ready.unmounted].sort());
    expect(await mountsUnder(root)).toEqual([ours.path]);
    expect((await snap.list()).map((i) => i.id)).toEqual([base.id]);
    expect(existsSync(liveTmp)).toBe(true);
    await rm(liveTmp, { recursive: true });
    expect((await readdir(dir)).sort()).toEqual(['.empty', '.init', base.id, 'l'].sort());
    expect(await readdir(join(dir, 'l'))).toEqual([(await readFile(join(dir, base.id, 'link'), 'utf8'))]);
    expect(await readdir(join(dir, base.id, 'children'))).toEqual([]);
    expect(existsSync(join(dir, base.id, 'removing'))).toBe(false);
    expect(await readFile(join(ours.path, 'a'), 'utf8')).toBe('A');
    await ours.release();
    await snap.remove(base.id);
  }, 60_000);

  test('two engines racing prepare/commit/remove keep every chain whole', async () => {
    const parents: string[] = [];
    for (let i = 0; i < 6; i++) {
      const p = await snap.prepare();
      await writeFile(join(p.upperDir, 'id'), String(i));
      parents.push(await snap.commit(p));
    }
    const builder = runChild(root, `
      const s = new Snap({ root });
      let made = 0, refused = 0;
      for (let i = 0; i < 150; i++) {
        if (i === 6) console.log('started');
        const parent = args[i % args.length];
        try {
          const a = await s.prepare({ parent });
          await s.commit(a);
          if (i % 2 === 0) await s.remove(a.id); else made++;
        } catch (e) {
          if (!['SNAPSHOT_NOT_FOUND', 'SNAPSHOT_BUSY'].includes(e.code)) throw e;
          refused++;
        }
      }
      console.log(JSON.stringify({ made, refused }));`, parents);
    // Start removing once the builder is under way, so the two really overlap.
    await builder.firstLine;
    const remover = runChild(root, `
      const s = new Snap({ root });
      let removed = 0, refused = 0;
      for (let round = 0; round < 60; round++) {
        for (const id of args) {
          try { await s.remove(id); removed++; } catch (e) {
            if (!['SNAPSHOT_NOT_FOUND', 'SNAPSHOT_HAS_CHILDREN', 'SNAPSHOT_BUSY'].includes(e.code)) throw e;
            refused++;
          }
        }
      }
      console.log(JSON.stringify({ removed, refused }));`, parents);
    const [b, r] = await Promise.all([builder.exit, remover.exit]);
    expect([b.code, b.stderr]).toEqual([0, '']);
    expect([r.code, r.stderr]).toEqual([0, '']);

    // Invariants: every snapshot's parent exists and is committed, links and lower files resolve,
    // children entries match, nothing temporary is left.
    const dir = join(root, 'overlay2');
    const all = await snap.list();
    const byId = new Map(all.map((i) => [i.id, i]));
    for (const info of all) {
      expect(info.kind).toBe('committed');
      expect(await readlink(join(dir, 'l', info.link))).toBe(`../${info.id}/diff`);
      if (info.parent !== undefined) {
        expect(byId.get(info.parent)?.kind).toBe('committed');
        expect(existsSync(join(dir, info.parent, 'children', info.id))).toBe(true);
        const lower = await readFile(join(dir, info.id, 'lower'), 'utf8');
        for (const l of lower.split(':')) expect((await stat(join(dir, l))).isDirectory()).toBe(true);
      }
      for (const c of await readdir(join(dir, info.id, 'children')).catch(() => [])) expect(byId.get(c)?.parent).toBe(info.id);
    }
    expect((await readdir(dir)).filter((n) => n.startsWith('.tmp-') || n.startsWith('.trash-'))).toEqual([]);
    expect((await readdir(join(dir, 'l'))).length).toBe(all.length);
    const made = (JSON.parse(b.stdout.trim().split('\n').pop() ?? '') as { made: number }).made;
    expect(all.filter((i) => i.parent !== undefined)).toHaveLength(made);
  }, 120_000);
});
