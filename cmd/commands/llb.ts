/**
 * `tsbuild llb`: converts a Dockerfile and prints the LLB definition (ops decoded, digests,
 * metadata, the image config) as JSON, or the stage/vertex graph as Graphviz dot. Nothing is built.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command, CommandContext } from '../cli/command.js';
import { flagBool, flagList, flagString, keyValues } from '../cli/args.js';
import { UserInputError, errorMessage } from '../../src/util/errors.js';
import { withClient } from './client.js';

async function readDockerfile(ctx: CommandContext, file: string): Promise<Buffer> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of ctx.io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(resolve(ctx.io.cwd, file), { signal: ctx.signal });
  } catch (e) {
    throw new UserInputError('DOCKERFILE_NOT_FOUND', `cannot read Dockerfile ${file}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`, { cause: e });
  }
}

export const llbCommand: Command = {
  name: 'llb',
  summary: 'Convert a Dockerfile to its LLB build graph and print it (JSON or Graphviz dot)',
  usage: '[OPTIONS] [CONTEXT]',
  minArgs: 0,
  maxArgs: 1,
  flags: [
    { name: 'file', short: 'f', kind: 'string', placeholder: 'FILE', description: 'the Dockerfile ("-" reads stdin)', default: 'CONTEXT/Dockerfile' },
    { name: 'target', kind: 'string', placeholder: 'STAGE', description: 'stage to convert (default: the last one)' },
    { name: 'build-arg', kind: 'list', placeholder: 'KEY=VALUE', description: 'set a build-time variable' },
    { name: 'platform', kind: 'string', placeholder: 'OS/ARCH', description: 'target platform (default: this machine\'s)' },
    { name: 'label', kind: 'list', placeholder: 'KEY=VALUE', description: 'add a label to the image config' },
    { name: 'no-cache', kind: 'bool', description: 'mark every step to ignore the cache' },
    { name: 'no-cache-filter', kind: 'list', placeholder: 'STAGE', description: 'mark the steps of this stage to ignore the cache' },
    { name: 'format', kind: 'string', placeholder: 'FORMAT', description: 'output format', default: 'json', choices: ['json', 'dot'] },
  ],
  details: 'The JSON lists every vertex in dependency order with its digest, decoded op (fields at their\n'
    + 'default value are omitted), inputs and metadata, then the image config, stages and warnings.\n'
    + 'See docs/llb.md.',
  async run(ctx: CommandContext): Promise<number> {
    const contextDir = resolve(ctx.io.cwd, ctx.args.positionals[0] ?? '.');
    const file = flagString(ctx.args, 'file') ?? join(ctx.args.positionals[0] ?? '.', 'Dockerfile');
    const source = await readDockerfile(ctx, file);
    const target = flagString(ctx.args, 'target');
    const platform = flagString(ctx.args, 'platform');
    const req = {
      contextDir,
      dockerfile: { name: file, content: source.toString('base64'), ...(file === '-' ? {} : { path: resolve(ctx.io.cwd, file) }) },
      ...(target !== undefined ? { target } : {}),
      ...(platform !== undefined ? { platform } : {}),
      buildArgs: Object.fromEntries(keyValues(flagList(ctx.args, 'build-arg'), 'build-arg', ctx.io.env)),
      labels: Object.fromEntries(keyValues(flagList(ctx.args, 'label'), 'label', ctx.io.env)),
      noCache: flagBool(ctx.args, 'no-cache'),
      noCacheFilter: flagList(ctx.args, 'no-cache-filter'),
      format: (flagString(ctx.args, 'format') ?? 'json') === 'dot' ? 'dot' as const : 'json' as const,
    };
    // Converting needs no data root: the client answers it without opening the engine.
    const result = await withClient(ctx, { noEngine: true }, (c) => c.llb(req, { signal: ctx.signal }));
    for (const w of result.warnings) {
      const at = w.location ? `${w.location.file}:${w.location.line}: ` : '';
      ctx.io.stderr.write(`warning: ${at}${w.message}\n`);
    }
    ctx.io.stdout.write(result.text);
    return 0;
  },
};
