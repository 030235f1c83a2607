/**
 * `tsbuild llb`: converts a Dockerfile and prints the LLB definition (ops decoded, digests,
 * metadata, the image config) as JSON, or the stage/vertex graph as Graphviz dot. Nothing is built.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command, CommandContext } from '../cli/command.js';
import { flagBool, flagList, flagString, keyValues } from '../cli/args.js';
import { UserInputError, errorMessage } from '../../src/util/errors.js';
import { parseDockerfile } from '../../src/frontend/dockerfile/parse.js';
import { convertDockerfile } from '../../src/frontend/dockerfile/convert/convert.js';
import { loadDockerignore } from '../../src/frontend/dockerignore.js';
import { definitionToJSON } from '../../src/llb/describe.js';
import { renderDot } from '../../src/llb/dot.js';
import type { ConvertResult } from '../../src/frontend/types.js';

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

function toJSON(r: ConvertResult): string {
  return `${JSON.stringify({
    target: r.target,
    definition: definitionToJSON(r.definition.loaded),
    image: r.image,
    stages: r.stages,
    warnings: r.warnings,
  }, null, 2)}\n`;
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
    const ast = parseDockerfile(source, { file });
    const ignore = await loadDockerignore({ contextDir, ...(file === '-' ? {} : { dockerfilePath: resolve(ctx.io.cwd, file) }), signal: ctx.signal });
    const target = flagString(ctx.args, 'target');
    const platform = flagString(ctx.args, 'platform');
    const result = await convertDockerfile(ast, {
      ...(target !== undefined ? { target } : {}),
      ...(platform !== undefined ? { platform } : {}),
      buildArgs: keyValues(flagList(ctx.args, 'build-arg'), 'build-arg', ctx.io.env),
      labels: keyValues(flagList(ctx.args, 'label'), 'label', ctx.io.env),
      dockerignore: ignore.patterns,
      noCache: flagBool(ctx.args, 'no-cache'),
      noCacheFilter: flagList(ctx.args, 'no-cache-filter'),
      signal: ctx.signal,
    });
    for (const w of result.warnings) {
      const at = w.location ? `${w.location.file}:${w.location.line}: ` : '';
      ctx.io.stderr.write(`warning: ${at}${w.message}\n`);
    }
    if ((flagString(ctx.args, 'format') ?? 'json') === 'dot') {
      ctx.io.stdout.write(renderDot(result.definition.loaded, { title: `${file} (target ${result.target})` }));
    } else {
      ctx.io.stdout.write(toJSON(result));
    }
    return 0;
  },
};
