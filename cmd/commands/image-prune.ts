/**
 * `tsbuild image prune`: removes dangling (`<none>`) images, or with -a every image, as
 * `docker image prune` does (tsbuild has no containers, so no image is "in use"). Built on the
 * list and remove calls of the client, so it works the same against a daemon.
 */
import { createInterface } from 'node:readline';
import type { Command, CommandContext } from '../cli/command.js';
import { flagBool } from '../cli/args.js';
import { familiarImageRef } from '../../src/oci/reference.js';
import { isTsbuildError } from '../../src/util/errors.js';
import { withClient } from './client.js';
import { humanSize } from './human-units.js';

/** docker's confirmation: anything but y/yes (also an empty or closed stdin) declines. */
async function confirm(ctx: CommandContext, all: boolean): Promise<boolean> {
  ctx.io.stderr.write(`WARNING! This will remove all ${all ? 'images without at least one container associated to them' : 'dangling images'}.\nAre you sure you want to continue? [y/N] `);
  const rl = createInterface({ input: ctx.io.stdin });
  try {
    for await (const line of rl) return /^y(es)?$/i.test(line.trim());
    return false;
  } finally {
    rl.close();
  }
}

export const imagePruneCommand: Command = {
  name: 'image prune',
  summary: 'Remove dangling images (with -a: all images), like docker image prune',
  usage: '[OPTIONS]',
  maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', kind: 'bool', description: 'remove all images, not just dangling ones' },
    { name: 'force', short: 'f', kind: 'bool', description: 'do not prompt for confirmation' },
  ],
  details: 'Dangling images are the <none> rows of `tsbuild images`: untagged builds and images a\n'
    + 'name moved away from. Blobs no remaining image needs are deleted; layers that back cached\n'
    + 'build steps stay until `tsbuild prune`. The reclaimed space is the listed size of the removed\n'
    + 'images (layers shared with a kept image are counted but not freed).',
  async run(ctx) {
    const all = flagBool(ctx.args, 'all');
    if (!flagBool(ctx.args, 'force') && !(await confirm(ctx, all))) return 0;
    let failed = false;
    await withClient(ctx, { readOnly: true }, async (c) => {
      const images = (await c.listImages({ signal: ctx.signal })).filter((i) => all || i.name === undefined);
      // One image may have several rows (names): remove it once, by ID.
      const byId = new Map(images.map((i) => [i.id, i.size]));
      const deleted: string[] = [];
      const untagged: string[] = [];
      let reclaimed = 0;
      for (const [id, size] of byId) {
        try {
          const r = await c.removeImage({ name: id, force: true }, { signal: ctx.signal });
          untagged.push(...r.untagged);
          deleted.push(...r.deleted);
          reclaimed += size;
        } catch (e) {
          if (!isTsbuildError(e) || e.code === 'CANCELLED') throw e;
          ctx.io.stderr.write(`error: ${e.describe()}\n`);
          failed = true;
        }
      }
      if (deleted.length > 0 || untagged.length > 0) {
        ctx.io.stdout.write('Deleted Images:\n');
        for (const n of untagged) ctx.io.stdout.write(`untagged: ${familiarImageRef(n)}\n`);
        for (const d of deleted) ctx.io.stdout.write(`deleted: ${d}\n`);
        ctx.io.stdout.write('\n');
      }
      ctx.io.stdout.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    });
    return failed ? 1 : 0;
  },
};
