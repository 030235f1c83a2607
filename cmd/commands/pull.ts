/** `tsbuild pull`: an image from its registry into the local store (docker pull). */
import type { Command } from '../cli/command.js';
import { flagBool, flagString } from '../cli/args.js';
import { withClient } from './client.js';
import { REGISTRY_FLAGS, registryAccess, shortDigest } from './registry-flags.js';

export const pullCommand: Command = {
  name: 'pull',
  aliases: ['image pull'],
  summary: 'Download an image from a registry, like docker pull',
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'platform', kind: 'string', placeholder: 'PLATFORM', description: 'platform to pick from a multi-platform image (default linux/amd64)' },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'print only the image name' },
    ...REGISTRY_FLAGS,
  ],
  details: 'Layers already in the local content store are not downloaded again; the others download in parallel.\n'
    + 'Credentials come from the docker config ($DOCKER_CONFIG, ~/.docker/config.json; see tsbuild login).\n\n'
    + 'Examples:\n  tsbuild pull alpine:3.19\n  tsbuild pull --insecure-registry registry.lan:5000 registry.lan:5000/team/base:1',
  async run(ctx) {
    const ref = ctx.args.positionals[0] as string;
    const quiet = flagBool(ctx.args, 'quiet');
    const platform = flagString(ctx.args, 'platform');
    const out = ctx.io.stdout;
    const res = await withClient(ctx, { readOnly: true }, (c) =>
      c.pull(
        { ref, registry: registryAccess(ctx.args, ctx), ...(platform !== undefined ? { platform } : {}) },
        {
          signal: ctx.signal,
          onProgress: (e) => {
            if (quiet || e.kind !== 'done' || e.mediaType.includes('config') || e.mediaType.includes('manifest')) return;
            out.write(`${shortDigest(e.digest)}: ${e.outcome === 'downloaded' ? 'Pull complete' : 'Already exists'}\n`);
          },
        },
      ),
    );
    if (quiet) {
      out.write(`${res.name}\n`);
      return 0;
    }
    out.write(`Digest: ${res.digest}\n`);
    out.write(`Status: ${res.upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${res.name}\n`);
    out.write(`${res.name}\n`);
    return 0;
  },
};
