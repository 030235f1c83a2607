/**
 * Where `tsbuild compare` builds. Embedded: one scratch data root per variant in a temp directory,
 * removed afterwards, so every cold build is truly cold, no variant reuses another's steps, and the
 * user's cache, images and history are untouched; the base images the Dockerfiles name are copied in from the user's store (save →
 * load) when it has them, else the builds pull them as usual. Through tsbuildd there is no scratch
 * store: the cold builds run with --no-cache in the daemon's store (their results land in its
 * cache and history; no image names are written — images come back as OCI archives only), and the
 * variants share its cache: a step two variants have in common (same parent, instruction and
 * files) is built once.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandContext } from '../cli/command.js';
import type { BuildRequest, Client } from '../../src/client/types.js';
import { openClient } from './client.js';

export interface CompareStore {
  readonly client: Client;
  /** True through tsbuildd: cold builds must skip the (shared) cache. */
  readonly coldNoCache: boolean;
  /** Closes the client and removes the scratch root. */
  close(): Promise<void>;
}

type LlbProbe = Pick<BuildRequest, 'contextDir' | 'dockerfile' | 'buildArgs' | 'labels' | 'target' | 'platform'>;

/** The store `variant` builds in (embedded: its own scratch root; through tsbuildd: the daemon's). */
export async function openCompareStore(ctx: CommandContext, variant: LlbProbe): Promise<CompareStore> {
  if (ctx.daemon) {
    const client = await openClient(ctx, {});
    return { client, coldNoCache: true, close: () => client.close() };
  }
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-compare-root-'));
  let client: Client | undefined;
  try {
    client = await openClient({ ...ctx, root: join(dir, 'root') }, {});
    await seedBaseImages(ctx, client, variant, dir);
    const opened = client;
    return {
      client: opened,
      coldNoCache: false,
      async close() {
        try {
          await opened.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    await client?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Copies the base images the variant builds on from the user's store into the scratch one. */
async function seedBaseImages(ctx: CommandContext, scratch: Client, v: LlbProbe, dir: string): Promise<void> {
  const refs = new Set<string>();
  const { text } = await scratch.llb({ ...v, noCache: false, noCacheFilter: [], format: 'json' }, { signal: ctx.signal });
  for (const m of text.matchAll(/"identifier": "docker-image:\/\/([^"]+)"/g)) if (m[1]) refs.add(m[1]);
  if (refs.size === 0) return;
  const user = await openClient(ctx, {});
  try {
    const have: string[] = [];
    for (const r of refs) {
      if (await user.inspect({ name: r }, { signal: ctx.signal }).then(() => true, () => false)) have.push(r);
    }
    if (have.length === 0) return;
    const archive = join(dir, 'bases.tar');
    const out = await open(archive, 'w');
    try {
      await user.saveImages({ names: have }, { signal: ctx.signal, output: { write: async (c) => void (await out.write(c)) } });
    } finally {
      await out.close();
    }
    await scratch.loadImages({ source: archive }, { signal: ctx.signal });
  } finally {
    await user.close();
  }
}
