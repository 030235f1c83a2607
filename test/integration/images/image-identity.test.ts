/**
 * Image identity as Docker users expect it, through the real CLI: a build without -t keeps an
 * untagged image; the image ID is the config digest everywhere (build -q, --iidfile, images,
 * inspect, history, rmi by prefix) and the manifest digest is `containerimage.digest`; an unchanged
 * rebuild keeps its ID (history times come from the cached layers); a moved name leaves its old
 * image dangling; `inspect` does not inherit the base image's "Imported from -" comment. Also: every
 * printing command ends quietly on a closed output pipe.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { haveBusybox } from '../../helpers/busybox.js';
import { cliPath } from '../../helpers/paths.js';
import { describeIf, isRoot } from '../../helpers/skip.js';
import { stepCounts, Workspace } from './workspace.js';

interface Inspect {
  Id: string;
  Comment: string;
  Created: string;
  RepoTags: string[];
}

const ID = /^sha256:[0-9a-f]{64}$/;

describeIf(isRoot && haveBusybox, 'needs root and busybox-static', 'image identity', () => {
  let ws: Workspace;
  const root = 'main';
  let ctx: string;

  beforeAll(async () => {
    ws = await Workspace.create('identity');
    await ws.importBusybox(root);
    ctx = await ws.context('app', 'FROM busybox\nRUN echo one > /one\nENV A=1\nCMD ["sh"]\n');
  }, 180_000);

  afterAll(async () => {
    await ws.finish();
  }, 60_000);

  const images = async (...args: string[]): Promise<string[]> => (await ws.ok(root, ['images', ...args])).stdout.trimEnd().split('\n');

  test('a build without -t stores an untagged image, prints writing image ID and writes --iidfile', async () => {
    const iid = ws.path('untagged.iid');
    const meta = ws.path('untagged.json');
    const r = await ws.ok(root, ['build', '--progress', 'plain', '--iidfile', iid, '--metadata-file', meta, ctx]);
    const id = await readFile(iid, 'utf8');
    expect(id).toMatch(ID);
    const m = JSON.parse(await readFile(meta, 'utf8')) as Record<string, unknown>;
    expect(m['containerimage.config.digest']).toBe(id);
    expect(m['containerimage.digest']).toMatch(ID);
    expect(m['containerimage.digest']).not.toBe(id);
    expect(r.stderr).toMatch(/^#\d+ exporting layers( [\d.]+s)? done$/m);
    expect(r.stderr).toMatch(new RegExp(`^#\\d+ writing image ${id}( [\\d.]+s)? done$`, 'm'));
    expect(r.stderr).not.toContain('naming to');
    expect(await images()).toContainEqual(expect.stringMatching(new RegExp(`^<none>\\s+<none>\\s+${id.slice(7, 19)}\\s`)));
    expect(await images('--filter', 'dangling=true', '-q', '--no-trunc')).toEqual([id]);
  }, 120_000);

  test('the image ID is the config digest in -q, --iidfile, images, inspect and history; an unchanged rebuild keeps it', async () => {
    const iid = ws.path('app.iid');
    const q = (await ws.ok(root, ['build', '-q', '-t', 'app', '--iidfile', iid, ctx])).stdout.trim();
    expect(q).toMatch(ID);
    expect(await readFile(iid, 'utf8')).toBe(q);
    // Fully cached: same history times, same config, same ID (also with the untagged build above).
    const again = (await ws.ok(root, ['build', '-q', '-t', 'app', ctx])).stdout.trim();
    expect(again).toBe(q);
    expect((await ws.ok(root, ['images', '-q', '--no-trunc', 'app'])).stdout.trim()).toBe(q);
    const [inspect] = JSON.parse((await ws.ok(root, ['inspect', 'app'])).stdout) as Inspect[];
    expect(inspect?.Id).toBe(q);
    expect((await ws.ok(root, ['history', '-q', '--no-trunc', 'app'])).stdout.split('\n')[0]).toBe(q);
    // The untagged build of the same image became `app` (no second `<none>` row for it).
    expect(await images('--filter', 'dangling=true', '-q')).toEqual(['']);
    // Docker's Comment for a BuildKit build: the last history comment, not the base's "Imported from -".
    expect(inspect?.Comment).toBe('buildkit.dockerfile.v0');
    expect(Date.parse(inspect?.Created ?? '')).not.toBeNaN();
  }, 120_000);

  test('with SOURCE_DATE_EPOCH, --no-cache rebuilds give the same ID', async () => {
    const env = { SOURCE_DATE_EPOCH: '1700000000' };
    const a = (await ws.ok(root, ['build', '-q', '--no-cache', '-t', 'epoch', ctx], { env })).stdout.trim();
    const b = (await ws.ok(root, ['build', '-q', '--no-cache', '-t', 'epoch', ctx], { env })).stdout.trim();
    expect(b).toBe(a);
    const [inspect] = JSON.parse((await ws.ok(root, ['image', 'inspect', 'epoch'])).stdout) as Inspect[];
    expect(inspect?.Created).toMatch(/^2023-11-14T22:13:20/);
  }, 120_000);

  test('a moved name leaves its old image as <none>; images -a, image prune and rmi by ID prefix', async () => {
    // A name moved to another image leaves the image it held as <none> when nothing else names it.
    const ctx2 = await ws.context('app2', 'FROM busybox\nRUN echo two > /two\n');
    const ctx4 = await ws.context('app4', 'FROM busybox\nRUN echo four > /four\n');
    const lone = (await ws.ok(root, ['build', '-q', '-t', 'lone', ctx4])).stdout.trim();
    expect(await images('--filter', 'dangling=true', '-q')).toEqual(['']);
    const moved = (await ws.ok(root, ['build', '-q', '-t', 'lone', ctx2])).stdout.trim();
    expect(moved).not.toBe(lone);
    expect(await images('--filter', 'dangling=true', '-q')).toEqual([lone.slice(7, 19)]);
    expect(await images('-a')).toContainEqual(expect.stringMatching(new RegExp(`^<none>\\s+<none>\\s+${lone.slice(7, 19)}\\s`)));
    // A name moved away from an image another name still holds leaves no <none> row.
    await ws.ok(root, ['tag', 'lone', 'twin']);
    await ws.ok(root, ['build', '-q', '-t', 'twin', ctx]);
    expect(await images('--filter', 'dangling=true', '-q')).toEqual([lone.slice(7, 19)]);
    // rmi by a short ID prefix.
    const ctx3 = await ws.context('app3', 'FROM busybox\nRUN echo three > /three\n');
    const three = (await ws.ok(root, ['build', '-q', ctx3])).stdout.trim();
    const rm = await ws.ok(root, ['image', 'rm', three.slice(7, 17)]);
    expect(rm.stdout).toContain(`Deleted: ${three}`);
    // image prune removes what is dangling, nothing named.
    const before = await images('--filter', 'dangling=false', '-q');
    const prune = await ws.ok(root, ['image', 'prune', '-f']);
    expect(prune.stdout).toContain(`deleted: ${lone}`);
    expect(prune.stdout).toMatch(/Total reclaimed space: /);
    expect(await images('--filter', 'dangling=true', '-q')).toEqual(['']);
    expect(await images('--filter', 'dangling=false', '-q')).toEqual(before);
  }, 180_000);

  test('save -o and load -i (docker save / docker load) keep the name and the image ID', async () => {
    const id = (await ws.ok(root, ['images', '-q', '--no-trunc', 'app'])).stdout.trim();
    const file = ws.path('app-save.tar');
    await ws.ok(root, ['save', '-o', file, 'app']);
    const r = await ws.ok('other', ['load', '-i', file]);
    expect(r.stdout).toBe('Loaded image: app:latest\n');
    expect((await ws.ok('other', ['images', '-q', '--no-trunc', 'app'])).stdout.trim()).toBe(id);
    // By ID: untagged, as docker saves it.
    const byId = ws.path('id-save.tar');
    await ws.ok(root, ['image', 'save', '-o', byId, id.slice(7, 19)]);
    expect((await ws.ok('third', ['image', 'load', byId])).stdout).toBe(`Loaded image ID: ${id}\n`);
    // An unknown image fails before anything is written.
    const bad = await ws.run(root, ['save', '-o', ws.path('bad.tar'), 'app', 'nosuch']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('error: No such image: nosuch\n');
    expect(existsSync(ws.path('bad.tar'))).toBe(false);
  }, 120_000);

  test('the step totals of the summary line and of --metadata-file agree', async () => {
    const c = await ws.context('copy', 'FROM busybox\nCOPY f /f\nRUN cat /f\n', { f: 'hello\n' });
    const meta = ws.path('copy.json');
    const r = await ws.ok(root, ['build', '--progress', 'plain', '--metadata-file', meta, c]);
    const m = JSON.parse(await readFile(meta, 'utf8')) as { 'tsbuild.cache': { total: number; cached: number; executed: number } };
    const line = stepCounts(r.stderr);
    expect(line.total).toBe(3);
    expect({ total: m['tsbuild.cache'].total, cached: m['tsbuild.cache'].cached, executed: m['tsbuild.cache'].executed }).toEqual(line);
  }, 120_000);

  test('every printing command ends quietly on a closed pipe (exit 141 or 0, no stack)', () => {
    const rootDir = ws.root(root);
    const commands = [
      ['du'], ['du', '--verbose'], ['images'], ['images', '-a'], ['history', 'app'], ['inspect', 'app'], ['info'], ['build', '--help'],
      ['build', '-q', ctx], ['build', '--progress', 'plain', '-o', 'type=tar,dest=-', ctx], ['build', '-q', '-o', 'type=docker,dest=-', ctx],
    ];
    for (const args of commands) {
      // `true` exits at once, so the command's first write meets a closed pipe.
      const cmd = `"${process.execPath}" "${cliPath}" --root "${rootDir}" ${args.map((a) => `'${a}'`).join(' ')} | true; echo "exit=\${PIPESTATUS[0]}" >&2`;
      const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_OPTIONS: '' } });
      const exit = /exit=(\d+)/.exec(r.stderr)?.[1];
      expect({ args, exit: ['0', '141'].includes(exit ?? '') ? 'ok' : exit, stack: /EPIPE|\n\s+at /.test(r.stderr) }).toEqual({ args, exit: 'ok', stack: false });
    }
  }, 300_000);
});
