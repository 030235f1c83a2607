/** `tsbuild rmi`: remove image names (docker rmi); blobs only those images used are deleted. */
import type { Command } from '../cli/command.js';
import { flagBool } from '../cli/args.js';
import { familiarImageRef } from '../../src/oci/reference.js';
import { isTsbuildError } from '../../src/util/errors.js';
import { withClient } from './client.js';

export const rmiCommand: Command = {
  name: 'rmi',
  aliases: ['image rm', 'image remove'],
  summary: 'Remove one or more images from the local store, like docker rmi',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  minArgs: 1,
  flags: [
    { name: 'force', short: 'f', kind: 'bool', description: 'remove every name of an image given by ID' },
  ],
  details: 'IMAGE is a name (app, app:1), name@digest, or an image ID (or a unique prefix of it).\n'
    + 'Blobs no remaining image needs are deleted; layers that back cached build steps stay until prune.\n'
    + 'Exits 1 if any IMAGE could not be removed (the others still are).',
  async run(ctx) {
    let failed = false;
    await withClient(ctx, { readOnly: true }, async (c) => {
      for (const ref of ctx.args.positionals) {
        try {
          const r = await c.removeImage({ name: ref, force: flagBool(ctx.args, 'force') }, { signal: ctx.signal });
          for (const n of r.untagged) ctx.io.stdout.write(`Untagged: ${familiarImageRef(n)}\n`);
          for (const d of r.deleted) ctx.io.stdout.write(`Deleted: ${d}\n`);
        } catch (e) {
          // docker goes on with the other images and fails at the end.
          if (!isTsbuildError(e) || e.code === 'CANCELLED') throw e;
          ctx.io.stderr.write(`error: ${e.describe()}\n`);
          failed = true;
        }
      }
    });
    return failed ? 1 : 0;
  },
};
