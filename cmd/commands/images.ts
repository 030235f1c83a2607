/** `tsbuild images`: the local image store, as `docker images` lists it. */
import type { Command } from '../cli/command.js';
import { flagBool, flagString } from '../cli/args.js';
import type { ImageSummary } from '../../src/client/types.js';
import { familiarImageRef, parseImageRef } from '../../src/llb/image-ref.js';
import { UserInputError, assertNever, errorMessage } from '../../src/util/errors.js';
import { withClient } from './client.js';
import { dockerTimestamp, humanSize, since } from './human-units.js';
import { renderTable } from './table.js';

type Format = 'table' | 'json';

function shortId(id: string, noTrunc: boolean): string {
  return noTrunc ? id : id.replace(/^sha256:/, '').slice(0, 12);
}

/** `app` or `app:1`: which rows a REPOSITORY[:TAG] argument selects. */
function matcher(arg: string): (s: ImageSummary) => boolean {
  let repo: string;
  let tag: string | undefined;
  try {
    const r = parseImageRef(arg);
    repo = familiarImageRef(`${r.domain}/${r.path}`);
    tag = r.tag;
  } catch (e) {
    throw new UserInputError('INVALID_REFERENCE', errorMessage(e), { cause: e });
  }
  return (s) => s.repository === repo && (tag === undefined || s.tag === tag);
}

export const imagesCommand: Command = {
  name: 'images',
  summary: 'List images in the local store, like docker images',
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  maxArgs: 1,
  flags: [
    { name: 'quiet', short: 'q', kind: 'bool', description: 'only show image IDs' },
    { name: 'digests', kind: 'bool', description: 'show manifest digests' },
    { name: 'no-trunc', kind: 'bool', description: 'do not truncate image IDs' },
    { name: 'format', kind: 'string', placeholder: 'FORMAT', choices: ['table', 'json'], default: 'table', description: 'output format (json: one object per line, as docker --format json)' },
  ],
  details: 'IMAGE ID is the config digest (12 hex digits unless --no-trunc). SIZE is the uncompressed\n'
    + 'file content of all layers, as docker counts it.',
  async run(ctx) {
    const format = (flagString(ctx.args, 'format') ?? 'table') as Format;
    const noTrunc = flagBool(ctx.args, 'no-trunc');
    const arg = ctx.args.positionals[0];
    let rows = await withClient(ctx, { readOnly: true }, (c) => c.listImages({ signal: ctx.signal }));
    if (arg !== undefined) rows = rows.filter(matcher(arg));
    if (flagBool(ctx.args, 'quiet')) {
      for (const r of rows) ctx.io.stdout.write(`${shortId(r.id, noTrunc)}\n`);
      return 0;
    }
    const now = Date.now();
    switch (format) {
      case 'json':
        for (const r of rows) {
          ctx.io.stdout.write(`${JSON.stringify({
            Containers: 'N/A',
            CreatedAt: dockerTimestamp(r.created),
            CreatedSince: since(r.created, now),
            Digest: r.manifestDigest,
            ID: shortId(r.id, noTrunc),
            Repository: r.repository,
            SharedSize: 'N/A',
            Size: humanSize(r.size),
            Tag: r.tag,
            UniqueSize: 'N/A',
            VirtualSize: humanSize(r.size),
          })}\n`);
        }
        return 0;
      case 'table': {
        const digests = flagBool(ctx.args, 'digests');
        const header = ['REPOSITORY', 'TAG', ...(digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
        ctx.io.stdout.write(renderTable(header, rows.map((r) => [
          r.repository, r.tag, ...(digests ? [r.manifestDigest] : []), shortId(r.id, noTrunc), since(r.created, now), humanSize(r.size),
        ])));
        return 0;
      }
      default:
        return assertNever(format, 'format');
    }
  },
};
