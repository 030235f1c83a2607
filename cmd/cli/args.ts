/**
 * A small, strict argument parser for tsbuild's commands: GNU-style `--flag value`, `--flag=value`,
 * `-f value`, repeated list flags, `--` to end flags. Unknown flags are usage errors (exit 2).
 */
import { UsageError } from '../../src/util/errors.js';
import { didYouMean } from '../../src/util/did-you-mean.js';

/** `optional-list`: `--flag` alone adds an empty value, `--flag=V` adds V (never takes the next word). */
export type FlagKind = 'bool' | 'string' | 'list' | 'optional-list';

export interface FlagSpec {
  /** Long name without dashes, e.g. `build-arg`. */
  readonly name: string;
  /** Single-letter alias without the dash, e.g. `t`. */
  readonly short?: string;
  readonly kind: FlagKind;
  readonly description: string;
  /** Shown in help, e.g. `NAME`. */
  readonly placeholder?: string;
  /** Default for string flags, shown in help. */
  readonly default?: string;
  /** Allowed values for string flags. */
  readonly choices?: readonly string[];
}

export interface ParsedArgs {
  readonly flags: ReadonlyMap<string, string | boolean | readonly string[]>;
  readonly positionals: readonly string[];
}

/** Global flags accepted by every command (before or after the command name). */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'root', kind: 'string', placeholder: 'DIR', description: 'data root (default $TSBUILD_ROOT or /var/lib/tsbuild)' },
  { name: 'debug', kind: 'bool', description: 'show stack traces and debug output' },
  { name: 'help', short: 'h', kind: 'bool', description: 'show help for the command' },
];

/**
 * Flags of the `tsbuild` CLI only (not tsbuildd, whose --addr is where it listens): which daemon
 * the commands talk to. Without --addr (or TSBUILD_ADDR) they run the engine in-process.
 */
export const CLIENT_FLAGS: readonly FlagSpec[] = [
  { name: 'addr', kind: 'string', placeholder: 'ADDR', description: 'talk to the tsbuildd at ADDR (unix:///PATH or tcp://HOST:PORT; default $TSBUILD_ADDR, else run the engine in-process)' },
  { name: 'token', kind: 'string', placeholder: 'TOKEN', description: 'bearer token for the daemon (default $TSBUILD_TOKEN)' },
  { name: 'tls-ca', kind: 'string', placeholder: 'FILE', description: 'PEM CA that signed the daemon\'s certificate (tcp with TLS)' },
  { name: 'tls-cert', kind: 'string', placeholder: 'FILE', description: 'PEM client certificate for the daemon (with --tls-key)' },
  { name: 'tls-key', kind: 'string', placeholder: 'FILE', description: 'PEM key of --tls-cert' },
];

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], command: string): ParsedArgs {
  const all = [...specs, ...GLOBAL_FLAGS];
  const byLong = new Map(all.map((s) => [s.name, s]));
  const byShort = new Map(all.filter((s) => s.short).map((s) => [s.short as string, s]));
  const flags = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];

  const set = (spec: FlagSpec, value: string | undefined, shown: string): void => {
    if (spec.kind === 'bool') {
      if (value === undefined) { flags.set(spec.name, true); return; }
      if (value !== 'true' && value !== 'false') throw new UsageError(`${command}: flag ${shown} takes no value other than true or false, got "${value}"`);
      flags.set(spec.name, value === 'true');
      return;
    }
    if (value === undefined) throw new UsageError(`${command}: flag ${shown} needs a value`);
    if (spec.choices && !spec.choices.includes(value)) {
      throw new UsageError(`${command}: invalid value "${value}" for ${shown}: expected one of ${spec.choices.join(', ')}`);
    }
    if (spec.kind === 'list' || spec.kind === 'optional-list') {
      const cur = flags.get(spec.name);
      flags.set(spec.name, [...(Array.isArray(cur) ? cur : []), value]);
    } else {
      flags.set(spec.name, value);
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = byLong.get(name);
      if (!spec) {
        throw new UsageError(`${command}: unknown flag: --${name}${didYouMean(name, [...byLong.keys()].map((k) => k)).replace(/mean (\S+)\?/, 'mean --$1?')}`);
      }
      let value: string | undefined = eq >= 0 ? a.slice(eq + 1) : undefined;
      if (value === undefined && spec.kind === 'optional-list') value = '';
      if (value === undefined && spec.kind !== 'bool') {
        value = argv[i + 1];
        if (value === undefined) throw new UsageError(`${command}: flag --${name} needs a value`);
        i++;
      }
      set(spec, value, `--${name}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // -t NAME, -tNAME, -h; a bare "-" is a positional (stdin).
      const letter = a[1] as string;
      const spec = byShort.get(letter);
      if (!spec) throw new UsageError(`${command}: unknown shorthand flag: '${letter}' in ${a}`);
      if (spec.kind === 'bool') {
        if (a.length > 2) throw new UsageError(`${command}: unknown shorthand flag: '${a[2]}' in ${a}`);
        set(spec, undefined, `-${letter}`);
        continue;
      }
      let value: string | undefined = a.length > 2 ? a.slice(2).replace(/^=/, '') : argv[i + 1];
      if (a.length <= 2) {
        if (value === undefined) throw new UsageError(`${command}: flag -${letter} needs a value`);
        i++;
      }
      set(spec, value, `-${letter}`);
      continue;
    }
    positionals.push(a);
  }
  return { flags, positionals };
}

export function flagString(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function flagBool(args: ParsedArgs, name: string): boolean {
  return args.flags.get(name) === true;
}

export function flagList(args: ParsedArgs, name: string): readonly string[] {
  const v = args.flags.get(name);
  return Array.isArray(v) ? v : [];
}

/** Parses repeated `K=V` flags (a bare `K` takes its value from the environment, as docker does). */
export function keyValues(list: readonly string[], flag: string, env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new UsageError(`invalid value "${item}" for --${flag}: expected KEY=VALUE`);
    if (eq < 0) {
      const v = env[item];
      if (v !== undefined) out.set(item, v);
      continue;
    }
    out.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return out;
}

export function formatFlags(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const value = s.kind === 'bool' ? '' : s.kind === 'optional-list' ? `[=${s.placeholder ?? 'VALUE'}]` : ` ${s.placeholder ?? 'VALUE'}`;
    const names = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${value}`;
    let d = s.description;
    if (s.choices) d += ` (${s.choices.join('|')})`;
    if (s.default !== undefined) d += ` (default ${s.default})`;
    if (s.kind === 'list' || s.kind === 'optional-list') d += ' (repeatable)';
    return [names, d] as const;
  });
  const w = Math.min(36, Math.max(0, ...rows.map(([n]) => n.length)));
  return rows.map(([n, d]) => `  ${n.padEnd(w)}  ${d}`).join('\n');
}
