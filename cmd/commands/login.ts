/** `tsbuild login` / `tsbuild logout`: registry credentials in the docker config (docker login). */
import type { Command, CommandContext } from '../cli/command.js';
import { flagBool, flagString } from '../cli/args.js';
import { UsageError, UserInputError } from '../../src/util/errors.js';
import { withClient } from './client.js';
import { REGISTRY_FLAGS, credentialsAccess, registryAccess } from './registry-flags.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks).toString('utf8');
}

async function password(ctx: CommandContext): Promise<string> {
  const fromStdin = flagBool(ctx.args, 'password-stdin');
  const given = flagString(ctx.args, 'password');
  if (fromStdin && given !== undefined) throw new UsageError('login: --password and --password-stdin are mutually exclusive');
  if (fromStdin) return (await readAll(ctx.io.stdin)).replace(/\r?\n$/, '');
  if (given !== undefined) {
    ctx.io.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    return given;
  }
  throw new UserInputError('LOGIN_PASSWORD', 'login: a password is required: use --password-stdin (or -p PASSWORD)');
}

export const loginCommand: Command = {
  name: 'login',
  summary: 'Log in to a registry, like docker login',
  usage: '[OPTIONS] [SERVER]',
  maxArgs: 1,
  flags: [
    { name: 'username', short: 'u', kind: 'string', placeholder: 'USER', description: 'user name' },
    { name: 'password', short: 'p', kind: 'string', placeholder: 'PASSWORD', description: 'password (prefer --password-stdin)' },
    { name: 'password-stdin', kind: 'bool', description: 'read the password from standard input' },
    ...REGISTRY_FLAGS,
  ],
  details: 'The credentials are checked against the registry first, then saved where docker keeps them:\n'
    + 'the credential helper configured in $DOCKER_CONFIG/config.json (default ~/.docker), else the file itself.\n'
    + 'SERVER defaults to Docker Hub.\n\nExample:\n  echo "$TOKEN" | tsbuild login -u ci --password-stdin registry.example.com',
  async run(ctx) {
    const username = flagString(ctx.args, 'username');
    if (username === undefined || username === '') throw new UserInputError('LOGIN_USERNAME', 'login: a username is required: use -u USER');
    const server = ctx.args.positionals[0];
    const req = {
      username,
      password: await password(ctx),
      registry: registryAccess(ctx.args, ctx),
      ...(server !== undefined ? { server } : {}),
    };
    // Login needs no data root: the client answers it without opening the engine.
    const res = await withClient(ctx, { noEngine: true }, (c) => c.login(req, { signal: ctx.signal }));
    ctx.io.stdout.write(`Login Succeeded (${res.domain}; credentials saved ${res.helper !== undefined ? `by docker-credential-${res.helper}` : `in ${res.configPath}`})\n`);
    return 0;
  },
};

export const logoutCommand: Command = {
  name: 'logout',
  summary: 'Log out from a registry, like docker logout',
  usage: '[SERVER]',
  maxArgs: 1,
  flags: [],
  async run(ctx) {
    const server = ctx.args.positionals[0];
    const req = { registry: credentialsAccess(ctx), ...(server !== undefined ? { server } : {}) };
    const { removed } = await withClient(ctx, { noEngine: true }, (c) => c.logout(req, { signal: ctx.signal }));
    ctx.io.stdout.write(removed ? `Removing login credentials for ${server ?? 'docker.io'}\n` : `Not logged in to ${server ?? 'docker.io'}\n`);
    return 0;
  },
};
