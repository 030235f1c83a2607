/**
 * `tsbuild save`: images as one `docker save` archive, to -o FILE or standard output (no -o, or
 * `-o -`), embedded or through tsbuildd's Save stream (docker save).
 * A file is written under a temporary name beside it and renamed only when complete, so a failed
 * or interrupted save never leaves a half archive that looks whole.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from '../cli/command.js';
import { flagString } from '../cli/args.js';
import { UsageError } from '../../src/util/errors.js';
import { withClient } from './client.js';
import { byteSink } from './io.js';

export const saveCommand: Command = {
  name: 'save',
  aliases: ['image save'],
  summary: 'Save one or more images to a tar archive (docker save format), like docker save',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  minArgs: 1,
  flags: [{ name: 'output', short: 'o', kind: 'string', placeholder: 'FILE', description: 'write to a file instead of standard output (`-`: standard output)' }],
  details: 'IMAGE is a name (app, app:1) or an image ID (or a unique prefix of it); an image given by ID\n'
    + 'is saved untagged. The archive loads with `docker load` and `tsbuild load`.',
  async run(ctx) {
    const file = flagString(ctx.args, 'output');
    const names = ctx.args.positionals;
    if (file === undefined || file === '-') {
      if ((ctx.io.stdout as { isTTY?: boolean }).isTTY) throw new UsageError('save: cowardly refusing to save to a terminal; use the -o flag or redirect');
      await withClient(ctx, { readOnly: true }, (c) => c.saveImages({ names }, { signal: ctx.signal, output: byteSink(ctx.io.stdout) }));
      return 0;
    }
    const dest = resolve(ctx.io.cwd, file);
    const tmp = join(dirname(dest), `.${basename(dest)}.tsbuild-save-${process.pid}`);
    const out = createWriteStream(tmp, { flags: 'wx' });
    try {
      await withClient(ctx, { readOnly: true }, (c) => c.saveImages({ names }, { signal: ctx.signal, output: byteSink(out) }));
      await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
      await rename(tmp, dest);
    } catch (e) {
      out.destroy();
      await rm(tmp, { force: true });
      throw e;
    }
    return 0;
  },
};
