/**
 * `image import` and `image load` unpack the image into its snapshots at once, as `docker import`
 * and `docker load` extract their layers: the first build FROM the image applies nothing (no
 * `extracting` row under FROM), and its result is the same as when FROM unpacked it.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { haveBusybox } from '../../helpers/busybox.js';
import { describeIf, isRoot } from '../../helpers/skip.js';
import { Workspace } from './workspace.js';

const DOCKERFILE = 'FROM busybox\nRUN ls /bin/busybox > /listed\n';

/** The FROM step's block of `--progress plain` output (`#N … FROM …` to its DONE). */
function fromBlock(stderr: string): string {
  const start = /^#(\d+) \[1\/2\] FROM /m.exec(stderr);
  if (!start) throw new Error(`no FROM step in:\n${stderr}`);
  return stderr.split('\n').filter((l) => l.startsWith(`#${start[1]} `)).join('\n');
}

describeIf(isRoot && haveBusybox, 'needs root and busybox-static', 'images unpacked when stored', () => {
  let ws: Workspace;

  beforeAll(async () => {
    ws = await Workspace.create('import-unpack');
  }, 60_000);

  afterAll(async () => {
    await ws.finish();
  }, 60_000);

  test('after image import, the first build FROM the image extracts nothing', async () => {
    await ws.importBusybox('imported');
    const ctx = await ws.context('app', DOCKERFILE);
    const meta = ws.path('imported.json');
    const r = await ws.ok('imported', ['build', '--progress', 'plain', '--metadata-file', meta, '-t', 'app', ctx]);
    const from = fromBlock(r.stderr);
    expect(from).toMatch(/DONE/);
    expect(from).not.toMatch(/extracting/);

    // `image load` unpacks too; both roots build the same image.
    const archive = ws.path('busybox-image.tar');
    await ws.ok('imported', ['save', '-o', archive, 'busybox']);
    await ws.ok('loaded', ['image', 'load', '-i', archive]);
    const r2 = await ws.ok('loaded', ['build', '--progress', 'plain', '-t', 'app', ctx]);
    expect(fromBlock(r2.stderr)).not.toMatch(/extracting/);

    const epoch = ['--build-arg', 'SOURCE_DATE_EPOCH=1700000000'];
    const m1 = ws.path('m1.json');
    const m2 = ws.path('m2.json');
    await ws.ok('imported', ['build', '--no-cache', ...epoch, '--metadata-file', m1, '-t', 'app', ctx]);
    await ws.ok('loaded', ['build', '--no-cache', ...epoch, '--metadata-file', m2, '-t', 'app', ctx]);
    const digest = async (f: string): Promise<unknown> => (JSON.parse(await readFile(f, 'utf8')) as Record<string, unknown>)['containerimage.digest'];
    expect(await digest(m2)).toBe(await digest(m1));
    expect(typeof (await digest(meta))).toBe('string');
  }, 240_000);
});
