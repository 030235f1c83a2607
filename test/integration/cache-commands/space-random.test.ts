/**
 * The store accounts for every byte, whatever happens to it: 200 operations drawn from a seeded
 * PRNG (builds, --no-cache builds, 2-3 builds at once, tag, rmi, prune with filters, image load,
 * push and pull, cache export and import, builds killed with SIGKILL at a random moment) on one
 * data root, through the real CLI. After each one:
 *
 * - `tsbuild du`'s data-root total equals a du -x walk of the root (within DU_TOLERANCE);
 * - `tsbuild cache check` finds nothing (after a kill, the next command — du here — recovers first);
 *
 * every 25 operations `prune --all` must leave exactly what the images in the store hold (no
 * snapshot, only blobs an image reaches), and at the end `rmi` of every image and `prune --all`
 * must leave nothing at all.
 *
 * TSBUILD_SPACE_OPS (default 200) and TSBUILD_SPACE_SEED (default 1) change the run; a failure
 * names the seed and the last operations, so it can be replayed.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { haveBusybox } from '../../helpers/busybox.js';
import { blobNames, bytesWithoutMetadata, DU_TOLERANCE, snapshotDirs } from '../../helpers/data-root-disk.js';
import { mulberry32 } from '../../helpers/prng.js';
import { haveRegistry, registryMissingWhy, startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { describeIf, haveBinary, isRoot, partIf } from '../../helpers/skip.js';
import { Workspace } from '../images/workspace.js';
import { SpaceWorld } from './space-world.js';

const OPS = Number(process.env['TSBUILD_SPACE_OPS'] ?? 200);
const SEED = Number(process.env['TSBUILD_SPACE_SEED'] ?? 1);
const PRUNE_EVERY = 25;

type Op = (w: SpaceWorld) => Promise<string>;

const TAGS = ['app:1', 'app:2', 'app:3'];
const BASE = 'docker.io/library/busybox:latest';

const build: Op = async (w) => {
  const ctx = w.pick(w.contexts);
  await w.maybeEdit(ctx);
  const tag = w.pick(TAGS);
  await w.ok(w.buildArgs({ ctx, tag }));
  return `build ${ctx.slice(-4)} -t ${tag}`;
};

const noCache: Op = async (w) => {
  const ctx = w.pick(w.contexts);
  const tag = w.pick(TAGS);
  await w.ok(w.buildArgs({ ctx, tag, noCache: true }));
  return `build --no-cache ${ctx.slice(-4)} -t ${tag}`;
};

const concurrent: Op = async (w) => {
  const n = w.rand() < 0.5 ? 2 : 3;
  const runs = Array.from({ length: n }, () => ({ ctx: w.pick(w.contexts), tag: w.pick(TAGS), noCache: w.rand() < 0.4 }));
  const results = await Promise.all(runs.map((r) => w.run(w.buildArgs(r))));
  for (const r of results) if (r.code !== 0) throw new Error(`a concurrent build failed:\n${r.stderr.slice(-2000)}`);
  return `${n} builds at once: ${runs.map((r) => `${r.noCache ? '--no-cache ' : ''}${r.ctx.slice(-4)}`).join(', ')}`;
};

const killed: Op = async (w) => {
  const ms = 100 + Math.floor(w.rand() * 3000);
  const noCacheToo = w.rand() < 0.5;
  const r = await w.killedBuild(w.buildArgs({ ctx: w.pick(w.contexts), tag: w.pick(TAGS), noCache: noCacheToo }), ms);
  return `build${noCacheToo ? ' --no-cache' : ''} killed after ${ms} ms${r.killed ? '' : ' (had finished)'}`;
};

const tag: Op = async (w) => {
  const names = w.imageNames();
  if (names.length === 0) return build(w);
  const [from, to] = [w.pick(names), w.pick(['t:1', 't:2', 'app:2'])];
  await w.ok(['tag', from, to]);
  return `tag ${from} ${to}`;
};

const rmi: Op = async (w) => {
  // The base image stays until the end: every Dockerfile builds FROM it.
  const names = w.imageNames().filter((n) => n !== BASE);
  if (names.length === 0) return 'rmi (nothing to remove)';
  const name = w.pick(names);
  await w.ok(['rmi', name]);
  return `rmi ${name}`;
};

const PRUNES: readonly (readonly string[])[] = [
  [], ['--filter', 'type=regular'], ['--all', '--filter', 'type=source.image'], ['--keep-storage', '150kB'],
  ['--filter', 'until=3s'], ['--filter', 'description=RUN echo a'], ['--all'],
];
const prune: Op = async (w) => {
  const args = w.pick(PRUNES);
  await w.ok(['prune', '-f', ...args]);
  return `prune ${args.join(' ')}`;
};

const load: Op = async (w) => {
  await w.ok(['image', 'load', '-i', w.ws.path('load.tar')]);
  return 'image load';
};

const pushPull: Op = async (w) => {
  const names = w.imageNames();
  if (!w.registry || names.length === 0) return build(w);
  if (w.pushed.size > 0 && w.rand() < 0.5) {
    const remote = w.pick([...w.pushed]);
    await w.ok(['pull', remote]);
    return `pull ${remote}`;
  }
  const remote = `${w.registry}/rand/app:${1 + Math.floor(w.rand() * 2)}`;
  await w.ok(['tag', w.pick(names), remote]);
  await w.ok(['push', remote]);
  w.pushed.add(remote);
  if (w.rand() < 0.5) await w.ok(['rmi', remote]);
  return `push ${remote}`;
};

const cacheExport: Op = async (w) => {
  const ctx = w.pick(w.contexts);
  const dest = w.ws.path('cache-export');
  if (w.rand() < 0.5) {
    await w.ok([...w.buildArgs({ ctx, tag: w.pick(TAGS) }).slice(0, -1), '--cache-to', `type=local,dest=${dest},mode=max`, ctx]);
    return `build --cache-to ${ctx.slice(-4)}`;
  }
  // Import after the local cache went (a pruned store rebuilding from an exported cache).
  if (w.rand() < 0.5) await w.ok(['prune', '-f', '--all']);
  const r = await w.run([...w.buildArgs({ ctx, tag: w.pick(TAGS) }).slice(0, -1), '--cache-from', `type=local,src=${dest}`, ctx]);
  if (r.code !== 0) throw new Error(`build --cache-from failed:\n${r.stderr.slice(-2000)}`);
  return `build --cache-from ${ctx.slice(-4)}`;
};

const WEIGHTED: readonly [Op, number][] = [
  [build, 22], [noCache, 9], [concurrent, 9], [killed, 8], [tag, 8], [rmi, 10], [prune, 12], [load, 6], [pushPull, 6], [cacheExport, 10],
];

function drawOp(rand: () => number): Op {
  const total = WEIGHTED.reduce((n, [, wgt]) => n + wgt, 0);
  let x = rand() * total;
  for (const [op, wgt] of WEIGHTED) if ((x -= wgt) < 0) return op;
  return build;
}

describeIf(isRoot && haveBusybox && haveBinary('runc'), 'needs root, runc and busybox-static', `space accounting under ${OPS} random operations`, () => {
  let ws: Workspace;
  let world: SpaceWorld;
  let registry: TestRegistry | undefined;
  const log: string[] = [];

  beforeAll(async () => {
    ws = await Workspace.create('space-random');
    world = new SpaceWorld(ws, mulberry32(SEED));
    if (partIf(haveRegistry, registryMissingWhy, 'push and pull operations')) {
      registry = await startRegistry();
      world.registry = registry.host;
    }
    await world.setup();
  }, 180_000);

  afterAll(async () => {
    await registry?.stop();
    const leftMounted = ws ? await ws.mounts() : [];
    await ws?.cleanup();
    expect(leftMounted).toEqual([]);
  }, 120_000);

  /** Wraps a failed assertion with the seed and the operations that led to it. */
  async function checked(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      let state = '';
      try {
        state = JSON.stringify({
          records: world.query('SELECT key, result_id, record_type, description FROM cache_records'),
          holders: world.query('SELECT * FROM ref_holders'),
          leases: world.query('SELECT * FROM leases'),
          tombstones: world.query('SELECT * FROM tombstones'),
        }, null, 1);
      } catch (q) {
        state = `(state unreadable: ${(q as Error).message})`;
      }
      throw new Error(`${what} failed (TSBUILD_SPACE_SEED=${SEED}); last operations:\n  ${log.slice(-12).join('\n  ')}\n${(e as Error).message}\nstore: ${state}`);
    }
  }

  /**
   * du against the disk, and a clean check. After a kill du runs first: it is the command whose
   * start recovers what the killed build left. Otherwise both run at once (du's recovery finds
   * nothing to do; the check changes nothing).
   */
  async function accounted(afterKill = false): Promise<void> {
    const duRun = world.ok(['du', '--format', 'json']);
    if (afterKill) await duRun;
    const [duOut, check] = await Promise.all([duRun, world.run(['cache', 'check'])]);
    const du = JSON.parse(duOut.stdout) as { disk: { total: number; metadata: number } };
    const onDisk = await bytesWithoutMetadata(world.root);
    expect({ du: du.disk.total - du.disk.metadata, onDisk, close: Math.abs(du.disk.total - du.disk.metadata - onDisk) <= DU_TOLERANCE })
      .toEqual({ du: expect.any(Number), onDisk, close: true });
    expect({ code: check.code, out: check.stdout }).toEqual({ code: 0, out: expect.stringMatching(/^ok: /) as unknown as string });
  }

  async function pruneAllLeavesImages(): Promise<void> {
    await world.ok(['prune', '-f', '--all']);
    expect(await snapshotDirs(world.root)).toEqual([]);
    expect(await blobNames(world.root)).toEqual(await world.imageBlobs());
    await accounted();
  }

  test(`${OPS} operations (seed ${SEED})`, async () => {
    const rand = world.rand;
    for (let i = 1; i <= OPS; i++) {
      const op = drawOp(rand);
      let desc = '';
      await checked(`operation ${i}`, async () => {
        desc = await op(world);
      });
      log.push(`${i}: ${desc}`);
      await checked(`accounting after operation ${i} (${desc})`, () => accounted(op === killed));
      if (i % PRUNE_EVERY === 0) await checked(`prune --all after operation ${i}`, pruneAllLeavesImages);
    }
    await checked('the final cleanup', async () => {
      for (const name of world.imageNames()) await world.ok(['rmi', name]);
      // Images a moved tag left without a name go by ID.
      for (const id of new Set(world.query<{ config_digest: string }>('SELECT config_digest FROM images').map((r) => r.config_digest))) await world.ok(['rmi', '-f', id]);
      await world.ok(['prune', '-f', '--all']);
      expect(await snapshotDirs(world.root)).toEqual([]);
      expect(await blobNames(world.root)).toEqual([]);
      for (const table of ['images', 'cache_records', 'refs', 'ref_holders', 'layer_blobs', 'leases', 'tombstones']) {
        expect({ table, rows: world.query(`SELECT * FROM ${table}`) }).toEqual({ table, rows: [] });
      }
      await accounted();
    });
  }, 3 * 3600_000);
});
