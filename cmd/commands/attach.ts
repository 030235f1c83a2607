/**
 * `tsbuild attach REF`: follows a build another client started on the daemon (`tsbuild builds` lists
 * the refs): its progress from the beginning, drawn as `tsbuild build` draws it, then its result —
 * exit 0 when it succeeded, its error and exit code when it failed. While attached, the build goes
 * on if the client that started it goes away. Ctrl-C detaches (the build is cancelled only when its
 * starting client is gone too).
 */
import type { Command } from '../cli/command.js';
import { flagBool, flagString } from '../cli/args.js';
import { TsbuildError } from '../../src/util/errors.js';
import { createRenderer, parseProgressMode } from '../../src/progress/index.js';
import { withClient } from './client.js';

export const attachCommand: Command = {
  name: 'attach',
  summary: 'Follow a running build of the daemon: its progress from the start, then its result',
  usage: '[OPTIONS] REF',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'progress', kind: 'string', placeholder: 'MODE', default: 'auto', choices: ['auto', 'plain', 'tty', 'rawjson', 'quiet'], description: 'progress output' },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'suppress the progress output and print the image ID on success' },
  ],
  details: "REF is a running build's ref, as 'tsbuild builds' lists it.",
  async run(ctx) {
    const ref = ctx.args.positionals[0] as string;
    const mode = flagBool(ctx.args, 'quiet') ? 'quiet' : parseProgressMode(flagString(ctx.args, 'progress') ?? 'auto');
    const renderer = createRenderer(mode, { out: process.stderr as NodeJS.WriteStream, env: ctx.io.env });
    const result = await withClient(ctx, { readOnly: true, noEngine: true }, async (client) => {
      try {
        return await client.attach({ ref }, { signal: ctx.signal, onProgress: (e) => renderer.write(e) });
      } catch (e) {
        // As for build: the renderer showed the failed step's last log lines.
        if (e instanceof TsbuildError) e.detailShown = true;
        throw e;
      } finally {
        renderer.close();
      }
    });
    if (flagBool(ctx.args, 'quiet') && result.imageDigest) ctx.io.stdout.write(`${result.imageDigest}\n`);
    return 0;
  },
};
