/** `tsbuild image import`: a root filesystem (tar, directory or stdin) as a one-layer image. */
import type { Command } from '../cli/command.js';
import { flagString } from '../cli/args.js';
import { withClient } from './client.js';
import { stdinBytes } from './io.js';

export const imageImportCommand: Command = {
  name: 'image import',
  aliases: ['import'],
  summary: 'Import a root filesystem (tarball, directory or -) as an image, like docker import',
  usage: '[OPTIONS] ROOTFS.tar|DIR|- NAME[:TAG]',
  minArgs: 2,
  maxArgs: 2,
  flags: [
    { name: 'message', short: 'm', kind: 'string', placeholder: 'TEXT', description: 'commit message for the imported layer' },
    { name: 'platform', kind: 'string', placeholder: 'PLATFORM', description: "platform the image config records (linux/arm64; default the engine's)" },
  ],
  async run(ctx) {
    const [source, name] = ctx.args.positionals as [string, string];
    const message = flagString(ctx.args, 'message');
    const platform = flagString(ctx.args, 'platform');
    const entry = await withClient(ctx, { readOnly: true }, (c) =>
      c.importImage({ source, name, ...(message !== undefined ? { message } : {}), ...(platform !== undefined ? { platform } : {}) }, { signal: ctx.signal, input: stdinBytes(ctx.io.stdin) }),
    );
    ctx.io.stdout.write(`${entry.manifestDigest}\n`);
    return 0;
  },
};
