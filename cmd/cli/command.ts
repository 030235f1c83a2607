/** The shape of a tsbuild subcommand, and the context it runs with. */
import type { FlagSpec, ParsedArgs } from './args.js';

export interface CommandIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** The daemon the commands talk to (`--addr`/`TSBUILD_ADDR` and its TLS files and token). */
export interface DaemonTarget {
  readonly address: string;
  /** Where the address came from: --addr, TSBUILD_ADDR, or a daemon found on the default socket. */
  readonly source: 'flag' | 'env' | 'default-socket';
  readonly token?: string;
  readonly tlsCaFile?: string;
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
}

export interface CommandContext {
  readonly args: ParsedArgs;
  readonly io: CommandIO;
  /** Aborted on SIGINT/SIGTERM; commands must stop and clean up. */
  readonly signal: AbortSignal;
  /** The data root from --root, $TSBUILD_ROOT or the default. */
  readonly root: string;
  /** Set when the commands talk to a tsbuildd instead of running the engine in-process. */
  readonly daemon?: DaemonTarget;
  readonly debug: boolean;
}

export interface Command {
  /** The words that select it, e.g. `build` or `image import`. */
  readonly name: string;
  /** Other words that select it, as docker's (`image ls` for `images`, `load` for `image load`). */
  readonly aliases?: readonly string[];
  readonly summary: string;
  /** Usage line after `tsbuild NAME`, e.g. `[OPTIONS] PATH | -`. */
  readonly usage: string;
  readonly flags: readonly FlagSpec[];
  /** Positional argument count; extra or missing ones are usage errors. */
  readonly minArgs?: number;
  readonly maxArgs?: number;
  /** Longer text shown by --help after the flags. */
  readonly details?: string;
  /** Returns the process exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/**
 * A row of the command table (cmd/commands/index.ts): the words that select a command, and its
 * file, imported only when it is the one chosen (or for the overview of all commands).
 */
export interface CommandEntry {
  readonly name: string;
  readonly aliases?: readonly string[];
  load(): Promise<Command>;
}
