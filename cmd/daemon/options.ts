/**
 * `tsbuildd`'s flags and config file, resolved into DaemonOptions. The config file (`--config
 * FILE`, JSON) takes the flags' names as keys (`{"addr": ["unix:///…"], "tls-cert": "…",
 * "max-parallelism": 4}`); a flag given on the command line wins over the file. Bad flags, bad
 * keys and bad values are usage errors (exit 2).
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { FlagSpec, ParsedArgs } from '../cli/args.js';
import { UsageError } from '../../src/util/errors.js';
import { DEFAULT_ADDRESS, parseListenAddress } from '../../src/control/addresses.js';
import type { DaemonOptions } from '../../src/control/types.js';
import { parseDuration, parseSize } from '../commands/human-units.js';
import { parseEntitlements } from '../../src/client/build-flags.js';

export const DAEMON_FLAGS: readonly FlagSpec[] = [
  { name: 'addr', kind: 'list', placeholder: 'ADDR', description: `listen address: unix:///PATH or tcp://HOST:PORT (default ${DEFAULT_ADDRESS})` },
  { name: 'tls-cert', kind: 'string', placeholder: 'FILE', description: 'PEM server certificate for tcp addresses' },
  { name: 'tls-key', kind: 'string', placeholder: 'FILE', description: 'PEM private key of --tls-cert' },
  { name: 'tls-ca', kind: 'string', placeholder: 'FILE', description: 'PEM CA: require tcp clients to present a certificate it signed' },
  { name: 'insecure-tcp', kind: 'bool', description: 'allow tcp addresses without TLS (anyone who reaches the port can build)' },
  { name: 'allow-insecure-entitlement', kind: 'list', placeholder: 'NAME', description: 'let builds ask for network.host (RUN on the host\'s network) or security.insecure (RUN --security=insecure) (default: neither)' },
  { name: 'token-file', kind: 'string', placeholder: 'FILE', description: 'bearer tokens, one "TOKEN ROLE [NAME]" a line (roles: admin, readonly); SIGHUP re-reads it' },
  { name: 'socket-group', kind: 'string', placeholder: 'GROUP', description: 'group owning the unix sockets (mode 0660) (default tsbuild if it exists, else the daemon\'s)' },
  { name: 'max-parallelism', kind: 'string', placeholder: 'N', description: 'build steps to run at once (default: number of cores)' },
  { name: 'gc-keep-storage', kind: 'string', placeholder: 'SIZE', description: 'keep the build cache under SIZE (e.g. 20GB; 0: no automatic GC) (default 10% of the data root\'s filesystem, as BuildKit)' },
  { name: 'shutdown-timeout', kind: 'string', placeholder: 'DURATION', description: 'on SIGTERM, how long running builds may finish before they are cancelled (default 30s)' },
  { name: 'max-message-size', kind: 'string', placeholder: 'SIZE', description: 'largest gRPC message received or sent (default 16MiB)' },
  { name: 'max-builds-per-client', kind: 'string', placeholder: 'N', description: 'builds one client may run at once (default 0: unlimited)' },
  { name: 'max-context-size', kind: 'string', placeholder: 'SIZE', description: 'largest build context a client may send (default 0: unlimited)' },
  { name: 'config', kind: 'string', placeholder: 'FILE', description: 'JSON config file with the flags\' names as keys; flags override it' },
  { name: 'version', kind: 'bool', description: 'print the version and exit' },
];

/** Keys the config file may hold: every flag but --config, --version and --help; plus --root. */
const CONFIG_KEYS = new Set([...DAEMON_FLAGS.map((f) => f.name).filter((n) => n !== 'config' && n !== 'version'), 'root']);
const MiB = 1024 * 1024;

type Value = string | boolean | readonly string[];

async function readConfig(file: string): Promise<Map<string, Value>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --config ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UsageError(`--config ${file}: expected a JSON object`);
  const out = new Map<string, Value>();
  for (const [k, v] of Object.entries(json)) {
    if (!CONFIG_KEYS.has(k)) throw new UsageError(`--config ${file}: unknown key "${k}" (keys are the flags' names: ${[...CONFIG_KEYS].join(', ')})`);
    const spec = DAEMON_FLAGS.find((f) => f.name === k);
    if (spec?.kind === 'bool') {
      if (typeof v !== 'boolean') throw new UsageError(`--config ${file}: "${k}" must be true or false`);
      out.set(k, v);
    } else if (spec?.kind === 'list') {
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new UsageError(`--config ${file}: "${k}" must be a string or a list of strings`);
      out.set(k, list as string[]);
    } else {
      if (typeof v !== 'string' && typeof v !== 'number') throw new UsageError(`--config ${file}: "${k}" must be a string or a number`);
      out.set(k, String(v));
    }
  }
  return out;
}

function count(value: string | undefined, flag: string, def: number, min: number): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`invalid value "${value}" for --${flag}: expected a whole number${min > 0 ? ` of at least ${min}` : ''}`);
  return n;
}

/** Flags over the config file over defaults. `defaultRoot` is the root when neither names one. */
export async function daemonOptions(args: ParsedArgs, defaultRoot: string): Promise<DaemonOptions> {
  if (args.positionals.length > 0) throw new UsageError(`tsbuildd takes no arguments, got "${args.positionals.join(' ')}"`);
  const configFile = args.flags.get('config');
  const merged = typeof configFile === 'string' ? await readConfig(configFile) : new Map<string, Value>();
  for (const [k, v] of args.flags) merged.set(k, v);
  const str = (k: string): string | undefined => {
    const v = merged.get(k);
    return typeof v === 'string' ? v : undefined;
  };
  const addrs = merged.get('addr');
  const addresses = (Array.isArray(addrs) && addrs.length > 0 ? addrs : [DEFAULT_ADDRESS]).map(parseListenAddress);

  const cert = str('tls-cert');
  const key = str('tls-key');
  const ca = str('tls-ca');
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (ca !== undefined && cert === undefined) throw new UsageError('--tls-ca needs --tls-cert and --tls-key');
  const maxMessage = parseSize(str('max-message-size') ?? '16MiB', 'max-message-size');
  if (maxMessage < 64 * 1024 || maxMessage > 2 ** 31 - 1) throw new UsageError('--max-message-size must lie between 64KiB and 2GiB');
  const socketGroup = str('socket-group');
  const tokenFile = str('token-file');
  const ent = merged.get('allow-insecure-entitlement');
  const entitlements = parseEntitlements(Array.isArray(ent) ? (ent as readonly string[]) : typeof ent === 'string' ? [ent] : [], '--allow-insecure-entitlement');

  return {
    addresses,
    ...(cert !== undefined && key !== undefined ? { tls: { certFile: cert, keyFile: key, ...(ca !== undefined ? { caFile: ca } : {}) } } : {}),
    insecureTcp: merged.get('insecure-tcp') === true,
    allowedEntitlements: entitlements,
    ...(tokenFile !== undefined ? { tokenFile } : {}),
    ...(socketGroup !== undefined ? { socketGroup } : {}),
    root: str('root') ?? defaultRoot,
    maxParallelism: count(str('max-parallelism'), 'max-parallelism', availableParallelism(), 1),
    ...(str('gc-keep-storage') !== undefined ? { gcKeepStorage: parseSize(str('gc-keep-storage') as string, 'gc-keep-storage') } : {}),
    shutdownTimeoutMs: parseDuration(str('shutdown-timeout') ?? '30s', 'shutdown-timeout'),
    limits: {
      maxMessageBytes: maxMessage || 16 * MiB,
      maxBuildsPerClient: count(str('max-builds-per-client'), 'max-builds-per-client', 0, 0),
      maxContextBytes: parseSize(str('max-context-size') ?? '0', 'max-context-size'),
    },
  };
}
