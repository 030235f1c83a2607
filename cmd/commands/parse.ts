/** `tsbuild parse`: parse a Dockerfile and print its syntax tree (BuildKit's dump, or JSON). */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command, CommandContext } from '../cli/command.js';
import { flagString } from '../cli/args.js';
import { CancelledError, throwIfAborted, UserInputError } from '../../src/util/errors.js';
import { withClient } from './client.js';

type Format = 'dump' | 'json' | 'ast';

/** Name used for a Dockerfile read from standard input. */
const STDIN_NAME = '<stdin>';

/** Reads standard input to its end; an abort (SIGINT) stops waiting for more input. */
function readStdin(stdin: NodeJS.ReadableStream, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer | string): void => {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    };
    const cleanup = (): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      signal.removeEventListener('abort', onAbort);
      stdin.pause();
    };
    const onEnd = (): void => {
      cleanup();
      resolvePromise(Buffer.concat(chunks));
    };
    const onError = (e: unknown): void => {
      cleanup();
      reject(new UserInputError('DOCKERFILE_READ', `cannot read Dockerfile from standard input: ${(e as Error).message}`, { cause: e }));
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal.reason instanceof CancelledError ? signal.reason : new CancelledError(signal.reason));
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onError);
    stdin.resume();
  });
}

async function readDockerfile(ctx: CommandContext): Promise<{ name: string; data: Buffer }> {
  const f = flagString(ctx.args, 'file');
  if (f === '-') return { name: STDIN_NAME, data: await readStdin(ctx.io.stdin, ctx.signal) };
  const dir = ctx.args.positionals[0];
  // Errors name the file as the user gave it; it is opened relative to the working directory.
  const name = f ?? (dir === undefined ? 'Dockerfile' : join(dir, 'Dockerfile'));
  try {
    return { name, data: await readFile(resolve(ctx.io.cwd, name), { signal: ctx.signal }) };
  } catch (e) {
    throwIfAborted(ctx.signal);
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new UserInputError('DOCKERFILE_READ', `cannot read Dockerfile ${name}: ${why}`, { cause: e });
  }
}

export const parseCommand: Command = {
  name: 'parse',
  summary: 'Parse a Dockerfile and print its syntax tree',
  usage: '[-f FILE|-] [--format dump|json|ast] [PATH]',
  flags: [
    { name: 'file', short: 'f', kind: 'string', placeholder: 'FILE', description: 'the Dockerfile; "-" reads standard input (default PATH/Dockerfile)' },
    { name: 'format', kind: 'string', placeholder: 'FORMAT', choices: ['dump', 'json', 'ast'], default: 'dump', description: 'output format' },
  ],
  maxArgs: 1,
  details: [
    'dump prints BuildKit\'s AST dump, one (keyword ["flags"] "args"...) line per instruction.',
    'json prints the typed instructions (flags parsed and validated) by stage, with source locations;',
    'ast prints the raw syntax tree with source locations (both shapes: docs/parse-json.md).',
    'Warnings go to standard error as FILE:LINE: warning: MESSAGE.',
  ].join('\n'),

  async run(ctx: CommandContext): Promise<number> {
    const format = (flagString(ctx.args, 'format') ?? 'dump') as Format;
    const { name, data } = await readDockerfile(ctx);
    throwIfAborted(ctx.signal);
    const req = { dockerfile: { name, content: data.toString('base64') }, format };
    // Parsing needs no data root: the client answers it without opening the engine.
    const res = await withClient(ctx, { noEngine: true }, (c) => c.parse(req, { signal: ctx.signal }));
    for (const w of res.warnings) ctx.io.stderr.write(`${name}:${w.line}: warning: ${w.message}\n`);
    ctx.io.stdout.write(res.text);
    return 0;
  },
};
