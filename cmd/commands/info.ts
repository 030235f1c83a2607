/**
 * `tsbuild info`: which engine the commands talk to and what it is: the version, embedded or a
 * daemon (and its address), the data root, runc, the kernel, the platform and the features. Like
 * `docker info`, the first thing to run when a build behaves differently on two machines.
 */
import type { Command } from '../cli/command.js';
import { flagString } from '../cli/args.js';
import { humanSize } from '../../src/util/human-size.js';
import { withClient } from './client.js';

/** How `Mode:` says where the daemon's address came from. */
const SOURCE = { flag: '', env: ', from TSBUILD_ADDR', 'default-socket': ', the default socket' } as const;

export const infoCommand: Command = {
  name: 'info',
  summary: 'Show the engine the commands use: version, embedded or daemon, data root, runc, kernel, features',
  usage: '[OPTIONS]',
  maxArgs: 0,
  flags: [
    { name: 'format', kind: 'string', placeholder: 'FORMAT', choices: ['text', 'json'], default: 'text', description: 'output format (json: the answer and the mode as one object)' },
  ],
  async run(ctx) {
    const info = await withClient(ctx, { readOnly: true }, (c) => c.info({ signal: ctx.signal }));
    const mode = ctx.daemon ? 'daemon' : 'embedded';
    if (flagString(ctx.args, 'format') === 'json') {
      ctx.io.stdout.write(`${JSON.stringify({ mode, ...(ctx.daemon ? { address: ctx.daemon.address, addressFrom: ctx.daemon.source } : {}), ...info })}\n`);
      return 0;
    }
    const runc = info.runc.version !== undefined ? `${info.runc.version}${info.runc.path ? ` (${info.runc.path})` : ''}` : 'not found';
    const lines = [
      `Version:     ${info.version}`,
      `Mode:        ${mode}${ctx.daemon ? ` (${ctx.daemon.address}${SOURCE[ctx.daemon.source]})` : ''}`,
      `Data root:   ${info.root}`,
      `Runc:        ${runc}`,
      `Kernel:      ${info.kernel}`,
      `Platform:    ${info.platform}`,
      `Platforms:   ${info.platforms.join(', ')}`,
      `Snapshotter: ${info.snapshotter}`,
      `Outputs:     ${info.outputs.join(', ')}`,
      `Features:    ${info.features.join(', ')}`,
      `GC budget:   ${info.gcKeepStorage > 0 ? `${humanSize(info.gcKeepStorage)} (the cache is pruned after builds to stay under it)` : 'none (no automatic GC; tsbuild prune still works)'}`,
    ];
    ctx.io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
