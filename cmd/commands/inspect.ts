/** `tsbuild inspect`: an image's details as JSON, in `docker inspect`'s shape. */
import type { Command } from '../cli/command.js';
import type { ImageInspect } from '../../src/client/types.js';
import { isTsbuildError } from '../../src/util/errors.js';
import { withClient } from './client.js';

export const inspectCommand: Command = {
  name: 'inspect',
  aliases: ['image inspect'],
  summary: 'Show details of one or more images as JSON, like docker inspect',
  usage: 'IMAGE [IMAGE...]',
  minArgs: 1,
  flags: [],
  details: 'Prints a JSON array with one object per image: Id, RepoTags, RepoDigests, Created, Config,\n'
    + 'Architecture, Os, Size, RootFS and GraphDriver (overlay2 directories of the image\'s top\n'
    + 'layer; the layers are unpacked first if no build has used the image yet). Exits 1 if any\n'
    + 'IMAGE is unknown (the others are still printed).',
  async run(ctx) {
    const out: ImageInspect[] = [];
    let failed = false;
    // Not read-only: showing GraphDriver may unpack layers, which needs root.
    await withClient(ctx, {}, async (c) => {
      for (const ref of ctx.args.positionals) {
        try {
          out.push(await c.inspect({ name: ref }, { signal: ctx.signal }));
        } catch (e) {
          if (!isTsbuildError(e) || e.code === 'CANCELLED') throw e;
          ctx.io.stderr.write(`error: ${e.describe()}\n`);
          failed = true;
        }
      }
    });
    ctx.io.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
    return failed ? 1 : 0;
  },
};
