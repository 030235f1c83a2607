/** `tsbuild push`: an image of the local store to its registry (docker push). */
import type { Command } from '../cli/command.js';
import { flagBool } from '../cli/args.js';
import { withClient } from './client.js';
import { REGISTRY_FLAGS, registryAccess, shortDigest } from './registry-flags.js';

const OUTCOME: Readonly<Record<string, string>> = {
  uploaded: 'Pushed',
  exists: 'Layer already exists',
  mounted: 'Mounted from another repository',
  downloaded: 'Pushed',
  present: 'Layer already exists',
};

export const pushCommand: Command = {
  name: 'push',
  aliases: ['image push'],
  summary: 'Upload an image to a registry, like docker push',
  usage: '[OPTIONS] NAME[:TAG]',
  minArgs: 1,
  maxArgs: 1,
  flags: [{ name: 'quiet', short: 'q', kind: 'bool', description: 'print only the pushed digest' }, ...REGISTRY_FLAGS],
  details: 'Blobs the registry already has are skipped, blobs of another repository of the same registry are\n'
    + 'mounted from it, and the manifest is uploaded last.\n\n'
    + 'Example:\n  tsbuild tag app registry.lan:5000/team/app:1 && tsbuild push registry.lan:5000/team/app:1',
  async run(ctx) {
    const name = ctx.args.positionals[0] as string;
    const quiet = flagBool(ctx.args, 'quiet');
    const out = ctx.io.stdout;
    const res = await withClient(ctx, { readOnly: true }, (c) =>
      c.push(
        { name, registry: registryAccess(ctx.args, ctx) },
        {
          signal: ctx.signal,
          onProgress: (e) => {
            if (quiet || e.kind !== 'done' || e.mediaType.includes('config')) return;
            out.write(`${shortDigest(e.digest)}: ${OUTCOME[e.outcome] ?? e.outcome}\n`);
          },
        },
      ),
    );
    const tag = res.name.includes('@') ? res.name.slice(res.name.lastIndexOf('@') + 1) : res.name.slice(res.name.lastIndexOf(':') + 1);
    out.write(quiet ? `${res.digest}\n` : `${tag}: digest: ${res.digest} size: ${res.size}\n`);
    return 0;
  },
};
