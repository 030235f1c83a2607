/**
 * A COPY from the daemon's synced context copy takes the files by hard link instead of copying
 * them (BuildRequest.contextLinkable; issue 14's cold build): the Solve handler on a real gRPC
 * server with a real engine, runc and overlay. The layer's files are the copy's inodes, and its
 * tar is the one a copy makes (the embedded engine's, from the client's own directory); later
 * edits of the context — content, mode, mtime, through a journal delta or a full listing — never
 * change a layer built before them (the sync gives a linked file a new inode first); and a one-file
 * edit after a linked COPY still links the rest from that layer (incremental COPY), edit after edit.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { chmod, lstat, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmbeddedClient } from '../../../src/client/embedded.js';
import { solveOverGrpc } from '../../../src/client/grpc-solve.js';
import type { BuildRequest } from '../../../src/client/types.js';
import type { ProgressEvent } from '../../../src/progress/types.js';
import { Engine } from '../../../src/engine/index.js';
import { layerTar } from '../../../src/worker/diff/layer-tar.js';
import { BASE, describeBuilds, useBuildEnv } from '../../helpers/build-env.js';
import { serveSolve, type SolveServer } from '../../helpers/solve-server.js';

const OLD = new Date('2020-01-01T00:00:00.250Z');
/** Clamps the times a build sets to "now" (/data, /data/files), not the context's own (OLD, NEWER). */
const CLAMP = 1_640_995_200; // 2022-01-01
const NEWER = new Date('2021-06-01T00:00:00Z');
const FILES = 20;
const DOCKERFILE = `FROM ${BASE}\nRUN mkdir -p /data\nCOPY f* /data/files/\n`;

const name = (i: number): string => `f${String(i).padStart(2, '0')}`;

async function tarDigest(diffDir: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of layerTar(diffDir, { sourceDateEpoch: CLAMP })) h.update(chunk);
  return h.digest('hex');
}

/** The `incremental: …` line of the build's COPY step, if any. */
function incrementalLine(events: readonly ProgressEvent[]): string | undefined {
  return events.flatMap((e) => (e.type === 'log' ? [/incremental: [^\n]*/.exec(e.data)?.[0]] : [])).find((l) => l !== undefined);
}

/** The direct copies' snapshot directories under `root` (they leave copy-sources.json beside diff/), oldest first. */
async function copySnapshots(root: string): Promise<string[]> {
  const dir = join(root, 'overlay2');
  const found: { path: string; t: number }[] = [];
  for (const id of await readdir(dir)) {
    const st = await stat(join(dir, id, 'copy-sources.json')).catch(() => undefined);
    if (st) found.push({ path: join(dir, id), t: st.mtimeMs });
  }
  return found.sort((a, b) => a.t - b.t).map((f) => f.path);
}

/** Facts of the files of a COPY layer the layer tar reads: text, mode, mtime, inode. */
async function filesOf(snapshot: string): Promise<Record<string, { text: string; mode: number; mtimeMs: number; ino: number }>> {
  const dir = join(snapshot, 'diff', 'data', 'files');
  const out: Record<string, { text: string; mode: number; mtimeMs: number; ino: number }> = {};
  for (const n of (await readdir(dir)).sort()) {
    const st = await lstat(join(dir, n));
    out[n] = { text: await readFile(join(dir, n), 'utf8'), mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, ino: st.ino };
  }
  return out;
}

describeBuilds('COPY links from the daemon context copy', () => {
  const daemonEnv = useBuildEnv();
  const embeddedEnv = useBuildEnv();
  let engine: Engine;
  let served: SolveServer;

  beforeAll(async () => {
    engine = await Engine.open({ root: daemonEnv.root });
    served = await serveSolve(engine, daemonEnv.root);
  }, 60_000);

  afterAll(async () => {
    await served?.close();
    await engine?.close();
  });

  const request = (contextDir: string, tag: string): BuildRequest => ({
    contextDir, dockerfile: { name: 'Dockerfile', content: Buffer.from(DOCKERFILE).toString('base64') },
    buildArgs: {}, labels: {}, noCache: false, noCacheFilter: [], network: 'default', ssh: {}, tags: [`localhost/link-${tag}:latest`], outputs: [],
  });

  /** Builds through the daemon; `sameHost` lets the context journal send a delta. */
  async function solve(ctx: string, tag: string, sameHost: boolean): Promise<ProgressEvent[]> {
    const events: ProgressEvent[] = [];
    await solveOverGrpc(served.channel, request(ctx, tag), { signal: new AbortController().signal, onProgress: (e) => events.push(e) }, { sameHost });
    return events;
  }

  /** Builds with the embedded engine (a plain copy from the client's directory); its newest COPY layer's tar digest. */
  async function embeddedDigest(files: Readonly<Record<string, string>>, edit: (ctx: string) => Promise<void>, tag: string): Promise<string> {
    const ctx = await embeddedEnv.context(`ctx-${tag}`, files);
    await edit(ctx);
    const client = await EmbeddedClient.open({ root: embeddedEnv.root });
    try {
      await client.build(request(ctx, tag), { signal: new AbortController().signal });
    } finally {
      await client.close();
    }
    const snap = (await copySnapshots(embeddedEnv.root)).at(-1) as string;
    return tarDigest(join(snap, 'diff'));
  }

  test('the layer is the copy\'s inodes and a copy\'s tar; context edits never reach it; edits after it still link', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < FILES; i++) files[name(i)] = `file ${i}\n`;
    const ctx = await daemonEnv.context('ctx', files);
    const stamp = async (dir: string): Promise<void> => {
      for (const n of Object.keys(files)) await utimes(join(dir, n), OLD, OLD);
    };
    await stamp(ctx);

    // 1. Cold: every file is linked from the daemon's copy of the context.
    expect(incrementalLine(await solve(ctx, 'one', true))).toBeUndefined();
    const [snap1] = (await copySnapshots(daemonEnv.root)) as [string];
    const contexts = join(daemonEnv.root, 'solve', 'contexts');
    const copyDir = join(contexts, (await readdir(contexts)).find((n) => !n.includes('.')) as string);
    const layer1 = await filesOf(snap1);
    for (const n of Object.keys(files)) expect({ n, ino: layer1[n]?.ino }).toEqual({ n, ino: (await lstat(join(copyDir, n))).ino });
    const digest1 = await tarDigest(join(snap1, 'diff'));
    expect(digest1).toBe(await embeddedDigest(files, stamp, 'one'));

    // 2. Through a journal delta: new content, a mode and an mtime alone.
    const edit2 = async (dir: string): Promise<void> => {
      await writeFile(join(dir, name(1)), 'edited 1\n');
      await utimes(join(dir, name(1)), OLD, OLD);
      await chmod(join(dir, name(2)), 0o600);
      await utimes(join(dir, name(3)), NEWER, NEWER);
    };
    await edit2(ctx);
    const second = await solve(ctx, 'two', true);
    expect(second.some((e) => e.type === 'log' && /listing: 3 changed paths \(journal\)/.test(e.data))).toBe(true);
    expect(incrementalLine(second)).toBe(`incremental: ${FILES - 3} linked, 3 copied`);
    expect(await filesOf(snap1)).toEqual(layer1);
    expect(await tarDigest(join(snap1, 'diff'))).toBe(digest1);
    const snap2 = (await copySnapshots(daemonEnv.root)).at(-1) as string;
    const layer2 = await filesOf(snap2);
    expect([layer2[name(1)]?.text, layer2[name(2)]?.mode, layer2[name(3)]?.mtimeMs]).toEqual(['edited 1\n', 0o600, NEWER.getTime()]);
    const digest2 = await tarDigest(join(snap2, 'diff'));

    // 3. Through a full listing (no journal): the same kinds of edit on other files. The files
    // the last COPY linked from the copy are linked from its layer now: their link counts say
    // nothing about hardlinks in the context.
    const edit3 = async (dir: string): Promise<void> => {
      await writeFile(join(dir, name(4)), 'edited 4\n');
      await utimes(join(dir, name(4)), OLD, OLD);
      await chmod(join(dir, name(5)), 0o640);
      await utimes(join(dir, name(6)), NEWER, NEWER);
    };
    await edit3(ctx);
    expect(incrementalLine(await solve(ctx, 'three', false))).toBe(`incremental: ${FILES - 3} linked, 3 copied`);
    expect(await filesOf(snap1)).toEqual(layer1);
    expect(await filesOf(snap2)).toEqual(layer2);
    expect(await tarDigest(join(snap1, 'diff'))).toBe(digest1);
    expect(await tarDigest(join(snap2, 'diff'))).toBe(digest2);
    const snap3 = (await copySnapshots(daemonEnv.root)).at(-1) as string;
    expect(await tarDigest(join(snap3, 'diff'))).toBe(await embeddedDigest(files, async (dir) => {
      await stamp(dir);
      await edit2(dir);
      await edit3(dir);
    }, 'three'));
  }, 300_000);
});
