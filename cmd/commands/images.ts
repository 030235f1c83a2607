/** `tsbuild images`: the local image store, as `docker images` lists it. */
import type { Command } from '../cli/command.js';
import { flagBool, flagList, flagString } from '../cli/args.js';
import type { ImageSummary } from '../../src/client/types.js';
import { familiarImageRef, parseReference } from '../../src/oci/reference.js';
import { UsageError, UserInputError, assertNever, errorMessage } from '../../src/util/errors.js';
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
    const r = parseReference(arg);
    repo = familiarImageRef(`${r.domain}/${r.path}`);
    tag = r.tag;
  } catch (e) {
    throw new UserInputError('INVALID_REFERENCE', errorMessage(e), { cause: e });
  }
  return (s) => s.repository === repo && (tag === undefined || s.tag === tag);
}

/** Shell-style glob (`*`, `?`) over a whole string, as docker's reference filter. */
function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
}

/** docker's `--filter dangling=true|false` and `--filter reference=PATTERN`. */
function filterOf(spec: string): (s: ImageSummary) => boolean {
  const eq = spec.indexOf('=');
  const key = eq > 0 ? spec.slice(0, eq) : spec;
  const value = eq > 0 ? spec.slice(eq + 1) : '';
  switch (key) {
    case 'dangling':
      if (value !== 'true' && value !== 'false') throw new UsageError(`invalid filter 'dangling=${value}': expected true or false`);
      return (s) => (s.name === undefined) === (value === 'true');
    case 'reference': {
      const re = glob(value);
      return (s) => s.name !== undefined && (re.test(s.repository) || re.test(`${s.repository}:${s.tag}`));
    }
    default:
      throw new UsageError(`invalid filter '${spec}': expected dangling=true|false or reference=PATTERN`);
  }
}

export const imagesCommand: Command = {
  name: 'images',
  aliases: ['image ls', 'image list'],
  summary: 'List images in the local store, like docker images',
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  maxArgs: 1,
  flags: [
    { name: 'all', short: 'a', kind: 'bool', description: 'show all images (tsbuild keeps no intermediate images: the same list)' },
    { name: 'filter', short: 'f', kind: 'list', placeholder: 'FILTER', description: 'filter the list: dangling=true|false, reference=PATTERN' },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'only show image IDs' },
    { name: 'digests', kind: 'bool', description: 'show digests (the RepoDigest in the row\'s repository, after a push or pull)' },
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
    for (const f of flagList(ctx.args, 'filter')) rows = rows.filter(filterOf(f));
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
            Digest: r.digest ?? '<none>',
            ID: shortId(r.id, noTrunc),
            Repository: r.repository,
            SharedSize: 'N/A',
            Size: humanSize(r.size),
            Tag: r.tag,
            UniqueSize: 'N/A',
            VirtualSize: humanSize(r.size),
            ...(r.platforms ? { Platforms: r.platforms.join(',') } : {}),
          })}\n`);
        }
        return 0;
      case 'table': {
        const digests = flagBool(ctx.args, 'digests');
        // Multi-platform images add a PLATFORMS column (docker's own table has none to show).
        const platforms = rows.some((r) => r.platforms !== undefined);
        const header = ['REPOSITORY', 'TAG', ...(digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE', ...(platforms ? ['PLATFORMS'] : [])];
        ctx.io.stdout.write(renderTable(header, rows.map((r) => [
          r.repository, r.tag, ...(digests ? [r.digest ?? '<none>'] : []), shortId(r.id, noTrunc), since(r.created, now), humanSize(r.size),
          ...(platforms ? [r.platforms?.join(',') ?? ''] : []),
        ])));
        return 0;
      }
      default:
        return assertNever(format, 'format');
    }
  },
};
