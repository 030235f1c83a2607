/** `tsbuild image load`: images from a `docker save` archive or an OCI layout tar (docker load). */
import type { Command } from '../cli/command.js';
import { flagString } from '../cli/args.js';
import { UsageError } from '../../src/util/errors.js';
import { familiarImageRef } from '../../src/oci/reference.js';
import { withClient } from './client.js';
import { stdinBytes } from './io.js';

export const imageLoadCommand: Command = {
  name: 'image load',
  aliases: ['load'],
  summary: 'Load images from a docker save archive or an OCI image layout tar, like docker load',
  usage: '[-i FILE | FILE | < FILE]',
  maxArgs: 1,
  flags: [
    { name: 'input', short: 'i', kind: 'string', placeholder: 'FILE', description: 'read from this archive instead of standard input' },
  ],
  details: 'Reads docker save archives (Docker 20.10\'s format and the OCI-layout-flavoured one BuildKit and\n'
    + 'tsbuild write) and OCI image layout tarballs, plain or gzip/bzip2/xz/zstd-compressed. Prints\n'
    + '"Loaded image: NAME" per name, "Loaded image ID: ID" for untagged images. Nothing is stored\n'
    + 'unless the whole archive is valid. See docs/commands.md.',
  async run(ctx) {
    const flag = flagString(ctx.args, 'input');
    const positional = ctx.args.positionals[0];
    if (flag !== undefined && positional !== undefined) throw new UsageError('image load: give the archive either with -i or as an argument, not both');
    const source = flag ?? positional ?? '-';
    if (source === '-' && (ctx.io.stdin as { isTTY?: boolean }).isTTY) {
      throw new UsageError('image load: requested load from stdin, but stdin is a terminal; use -i FILE or redirect an archive');
    }
    const loaded = await withClient(ctx, { readOnly: true }, (c) =>
      c.loadImages({ source }, { signal: ctx.signal, ...(source === '-' ? { input: stdinBytes(ctx.io.stdin) } : {}) }));
    for (const img of loaded) {
      ctx.io.stdout.write(img.name !== undefined ? `Loaded image: ${familiarImageRef(img.name)}\n` : `Loaded image ID: ${img.configDigest}\n`);
    }
    return 0;
  },
};
