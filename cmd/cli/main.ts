/**
 * Entry logic shared by the `tsbuild` binary: picks the subcommand, parses flags, wires signals,
 * and turns errors into one clear line and an exit code (1 for failures, 2 for usage errors).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_FLAGS, formatFlags, GLOBAL_FLAGS, parseArgs, flagBool, flagString } from './args.js';
import type { ParsedArgs } from './args.js';
import type { Command, CommandEntry, CommandIO, DaemonTarget } from './command.js';
import { UsageError, isTsbuildError, CancelledError, errorMessage, TsbuildError, hintLines } from '../../src/util/errors.js';
import { didYouMean } from '../../src/util/did-you-mean.js';
import { probeDefaultDaemon } from '../../src/client/default-daemon.js';

export function defaultRoot(env: NodeJS.ProcessEnv): string {
  if (env['TSBUILD_ROOT']) return env['TSBUILD_ROOT'];
  if (process.getuid?.() === 0) return '/var/lib/tsbuild';
  return join(env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share'), 'tsbuild');
}

/** Global flags taking a value, which findCommand must skip before the command's name. */
const VALUE_FLAGS = new Set([...GLOBAL_FLAGS, ...CLIENT_FLAGS].filter((f) => f.kind !== 'bool').map((f) => `--${f.name}`));

/** The daemon from --addr (else $TSBUILD_ADDR) with its TLS files and token, or undefined for in-process. */
export function daemonTarget(args: ParsedArgs, env: NodeJS.ProcessEnv): DaemonTarget | undefined {
  const flag = flagString(args, 'addr');
  const address = flag ?? (env['TSBUILD_ADDR'] || undefined);
  const token = flagString(args, 'token') ?? (env['TSBUILD_TOKEN'] || undefined);
  const tls = { ca: flagString(args, 'tls-ca'), cert: flagString(args, 'tls-cert'), key: flagString(args, 'tls-key') };
  if (address === undefined) {
    const given = [token !== undefined && flagString(args, 'token') !== undefined ? '--token' : '', tls.ca ? '--tls-ca' : '', tls.cert ? '--tls-cert' : '', tls.key ? '--tls-key' : ''].filter(Boolean);
    if (given.length > 0) throw new UsageError(`${given.join(', ')} need${given.length === 1 ? 's' : ''} --addr (or TSBUILD_ADDR): the daemon to talk to`);
    return undefined;
  }
  return {
    address,
    source: flag !== undefined ? 'flag' : 'env',
    ...(token !== undefined ? { token } : {}),
    ...(tls.ca !== undefined ? { tlsCaFile: tls.ca } : {}),
    ...(tls.cert !== undefined ? { tlsCertFile: tls.cert } : {}),
    ...(tls.key !== undefined ? { tlsKeyFile: tls.key } : {}),
  };
}

/**
 * With no --addr or TSBUILD_ADDR: the daemon on the default socket when one listens there (one
 * connect(); see src/client/default-daemon.ts), unless a data root is named (--root, TSBUILD_ROOT:
 * that root belongs to an engine in this process, a daemon has its own).
 */
export async function defaultDaemonTarget(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<DaemonTarget | undefined> {
  if (flagString(args, 'root') !== undefined || env['TSBUILD_ROOT']) return undefined;
  const address = await probeDefaultDaemon(env);
  if (address === undefined) return undefined;
  const token = env['TSBUILD_TOKEN'] || undefined;
  return { address, source: 'default-socket', ...(token !== undefined ? { token } : {}) };
}

function findCommand(commands: readonly CommandEntry[], argv: readonly string[]): { cmd: CommandEntry | undefined; rest: string[]; words: string[] } {
  // Longest match of leading non-flag words against command names (`image import` before `image`).
  const words: string[] = [];
  const idx: number[] = [];
  for (let i = 0; i < argv.length && words.length < 3; i++) {
    const a = argv[i] as string;
    if (a.startsWith('-')) {
      // a global string flag before the command consumes its value
      if (VALUE_FLAGS.has(a)) i++;
      continue;
    }
    words.push(a);
    idx.push(i);
  }
  for (let n = words.length; n > 0; n--) {
    const name = words.slice(0, n).join(' ');
    const cmd = commands.find((c) => c.name === name || c.aliases?.includes(name));
    if (cmd) {
      const drop = new Set(idx.slice(0, n));
      return { cmd, rest: argv.filter((_, i) => !drop.has(i)), words: words.slice(0, n) };
    }
  }
  return { cmd: undefined, rest: [...argv], words };
}

export function helpText(prog: string, cmd: Command): string {
  let s = `Usage: ${prog} ${cmd.name} ${cmd.usage}\n\n${cmd.summary}\n`;
  if (cmd.aliases?.length) s += `\nAliases:\n  ${[cmd.name, ...cmd.aliases].map((a) => `${prog} ${a}`).join(', ')}\n`;
  if (cmd.flags.length) s += `\nOptions:\n${formatFlags(cmd.flags)}\n`;
  s += `\nGlobal options:\n${formatFlags([...GLOBAL_FLAGS, ...CLIENT_FLAGS])}\n`;
  if (cmd.details) s += `\n${cmd.details.trimEnd()}\n`;
  return s;
}

export function overviewText(prog: string, summary: string, commands: readonly Command[]): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  const rows = [...commands].sort((a, b) => a.name.localeCompare(b.name)).map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`);
  return `Usage: ${prog} [--root DIR | --addr ADDR] [--debug] COMMAND [OPTIONS]\n\n${summary}\n\nCommands:\n${rows.join('\n')}\n\nRun '${prog} COMMAND --help' for more information on a command.\n`;
}

/** Renders an error for the terminal: one line, plus the offending source line when known. */
export function formatError(e: unknown, debug: boolean): string {
  let out = '';
  if (isTsbuildError(e)) {
    out = `error: ${e.describe()}\n`;
    if (e.sourceLine !== undefined && e.location) {
      const n = String(e.location.line);
      out += ` ${n} | ${e.sourceLine}\n ${' '.repeat(n.length)} | ${' '.repeat(Math.max(0, e.location.column - 1))}^\n`;
    }
    for (const d of e.detailShown ? hintLines(e.detail) : e.detail) out += `${d}\n`;
  } else {
    out = `error: ${errorMessage(e)}\n`;
  }
  if (debug && e instanceof Error && e.stack) out += `${e.stack}\n`;
  return out;
}

/**
 * Signals that cancel a command and let it clean up: Ctrl-C, a service manager's stop, and a closed
 * terminal (SIGHUP), which would otherwise kill the process with its mounts still in place.
 */
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Exit code of a command whose output pipe closed: 128 + SIGPIPE, what a shell shows for docker. */
const EXIT_PIPE = 141;

function ignoreEpipe(err: unknown): void {
  if ((err as { code?: unknown }).code !== 'EPIPE') throw err;
}

export interface RunOptions {
  readonly prog: string;
  readonly summary: string;
  readonly version: string;
  /** The command table; only the chosen command's file is loaded (all of them for the overview). */
  readonly commands: readonly CommandEntry[];
  readonly io: CommandIO;
  /** Told when the command is about to run through a daemon (the binary then exits without waiting for the connection's teardown). */
  readonly onDaemon?: () => void;
}

export async function runCli(argv: readonly string[], opts: RunOptions): Promise<number> {
  const { io, prog } = opts;
  const debug = argv.includes('--debug');
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) {
      io.stderr.write(`${prog}: second ${sig}, exiting without cleanup\n`);
      process.exit(130);
    }
    ac.abort(new CancelledError(new Error(`received ${sig}`)));
  };
  // A closed pipe on stdout or stderr (`tsbuild du | head -1`) ends the command quietly, as SIGPIPE
  // ends docker: the command is cancelled (a build cleans up) and exits 141, with no stack trace.
  let pipeClosed = false;
  const onStreamError = (err: unknown): void => {
    if ((err as { code?: unknown }).code !== 'EPIPE' || pipeClosed) return;
    pipeClosed = true;
    ac.abort(new CancelledError(new Error('output pipe closed')));
  };
  io.stdout.on('error', onStreamError);
  io.stderr.on('error', onStreamError);
  for (const sig of SIGNALS) process.on(sig, onSignal);
  try {
    if (argv.length === 0 || (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help'))) {
      io.stdout.write(overviewText(prog, opts.summary, await Promise.all(opts.commands.map((c) => c.load()))));
      return 0;
    }
    if (argv[0] === '--version' || argv[0] === 'version') {
      io.stdout.write(`${prog} ${opts.version}\n`);
      return 0;
    }
    const { cmd: entry, rest, words } = findCommand(opts.commands, argv);
    if (!entry) {
      const word = words[0];
      if (word === undefined) throw new UsageError(`no command given; run '${prog} --help'`);
      const names = opts.commands.map((c) => c.name);
      throw new UsageError(`unknown command "${words.join(' ')}" for "${prog}"${didYouMean(words.join(' '), names) || didYouMean(word, names)}`);
    }
    const cmd = await entry.load();
    const args = parseArgs(rest, [...cmd.flags, ...CLIENT_FLAGS], `${prog} ${cmd.name}`);
    if (flagBool(args, 'help')) {
      io.stdout.write(helpText(prog, cmd));
      return 0;
    }
    const n = args.positionals.length;
    if (cmd.minArgs !== undefined && n < cmd.minArgs) {
      throw new UsageError(`"${prog} ${cmd.name}" requires ${cmd.minArgs === cmd.maxArgs ? 'exactly' : 'at least'} ${cmd.minArgs} argument${cmd.minArgs === 1 ? '' : 's'}; usage: ${prog} ${cmd.name} ${cmd.usage}`);
    }
    if (cmd.maxArgs !== undefined && n > cmd.maxArgs) {
      throw new UsageError(`"${prog} ${cmd.name}" accepts ${cmd.maxArgs === 0 ? 'no arguments' : `at most ${cmd.maxArgs} argument${cmd.maxArgs === 1 ? '' : 's'}`}; usage: ${prog} ${cmd.name} ${cmd.usage}`);
    }
    const daemon = daemonTarget(args, io.env) ?? (await defaultDaemonTarget(args, io.env));
    if (daemon) opts.onDaemon?.();
    const code = await cmd.run({
      args,
      io,
      signal: ac.signal,
      root: flagString(args, 'root') ?? defaultRoot(io.env),
      ...(daemon ? { daemon } : {}),
      debug,
    });
    return pipeClosed ? EXIT_PIPE : code;
  } catch (e) {
    if (pipeClosed) return EXIT_PIPE;
    if (e instanceof UsageError) {
      // Flag errors already name the command (`tsbuild images: unknown flag: --x`): no second prefix.
      io.stderr.write(e.message.startsWith(`${prog} `) ? `${e.message}\n` : `${prog}: ${e.message}\n`);
      return 2;
    }
    io.stderr.write(formatError(e, debug));
    return e instanceof TsbuildError && e.code === 'CANCELLED' ? 130 : 1;
  } finally {
    for (const sig of SIGNALS) process.off(sig, onSignal);
    // Writes still queued may fail after the command returned: keep them quiet too.
    io.stdout.off('error', onStreamError);
    io.stderr.off('error', onStreamError);
    for (const s of [io.stdout, io.stderr]) if (!s.listeners('error').includes(ignoreEpipe)) s.on('error', ignoreEpipe);
  }
}
