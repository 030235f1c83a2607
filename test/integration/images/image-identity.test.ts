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
    const leftMounted = await ws.mounts();
    await ws.cleanup();
    expect(leftMounted).toEqual([]);
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
    expect(r.stderr).toContain(`writing image ${id} done`);
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
    const old = (await ws.ok(root, ['build', '-q', '-t', 'moving', ctx])).stdout.trim();
    const ctx2 = await ws.context('app2', 'FROM busybox\nRUN echo two > /two\n');
    const moved = (await ws.ok(root, ['build', '-q', '-t', 'moving', ctx2])).stdout.trim();
    expect(moved).not.toBe(old);
    let dangling = await images('--filter', 'dangling=true', '-q');
    expect(dangling).toEqual(['']);
    // A name that held an image nothing else names: moving it leaves that image as <none>.
    const ctx4 = await ws.context('app4', 'FROM busybox\nRUN echo four > /four\n');
    const lone = (await ws.ok(root, ['build', '-q', '-t', 'lone', ctx4])).stdout.trim();
    await ws.ok(root, ['build', '-q', '-t', 'lone', ctx2]);
    dangling = await images('--filter', 'dangling=true', '-q');
    expect(dangling).toEqual([lone.slice(7, 19)]);
    expect(await images('-a')).toContainEqual(expect.stringMatching(new RegExp(`^<none>\\s+<none>\\s+${lone.slice(7, 19)}\\s`)));
    // `old` is the same image as `app` (same Dockerfile, cached): still named, so not dangling.
    expect(dangling).not.toContain(old.slice(7, 19));
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
