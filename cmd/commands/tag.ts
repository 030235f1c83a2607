/** `tsbuild tag`: give an image another name (docker tag). */
import type { Command } from '../cli/command.js';
import { withClient } from './client.js';

export const tagCommand: Command = {
  name: 'tag',
  aliases: ['image tag'],
  summary: 'Create a name TARGET_IMAGE that refers to SOURCE_IMAGE, like docker tag',
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  minArgs: 2,
  maxArgs: 2,
  flags: [],
  details: 'SOURCE_IMAGE may also be an image ID (or a unique prefix of it). An existing TARGET_IMAGE\n'
    + 'name moves to the new image.',
  async run(ctx) {
    const [source, target] = ctx.args.positionals as [string, string];
    await withClient(ctx, { readOnly: true }, (c) => c.tagImage({ source, target }, { signal: ctx.signal }));
    return 0;
  },
};
