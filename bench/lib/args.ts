/** Benchmark flags: Node's strict parseArgs, with errors as usage errors (exit 2) and checked values. */
import { parseArgs } from 'node:util';
import { UsageError, errorMessage } from '../../src/util/errors.js';
import { TOOL_NAMES } from './types.js';
import type { ToolName } from './types.js';

export interface FlagDef {
  readonly type: 'string' | 'boolean';
  /** Shown by --help. */
  readonly help: string;
}

export type ParsedFlags = Readonly<Record<string, string | boolean | undefined>>;

/** Parses argv; prints usage and exits 0 on --help. */
export function parseFlags(argv: readonly string[], usage: string, defs: Readonly<Record<string, FlagDef>>): ParsedFlags {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [k, d] of Object.entries(defs)) options[k] = { type: d.type };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError(`${errorMessage(e)}\n${usage}`);
  }
  if (values['help'] === true) {
    const lines = Object.entries(defs).map(([k, d]) => `  --${k}${d.type === 'string' ? ' VALUE' : ''}`.padEnd(28) + d.help);
    process.stdout.write(`${usage}\n\n${lines.join('\n')}\n`);
    process.exit(0);
  }
  return values;
}

export function positiveInt(flags: ParsedFlags, name: string, def: number): number {
  const raw = flags[name];
  if (raw === undefined) return def;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < 1) throw new UsageError(`--${name} needs a positive integer, got "${String(raw)}"`);
  return n;
}

export function intList(flags: ParsedFlags, name: string, def: readonly number[]): number[] {
  const raw = flags[name];
  if (raw === undefined) return [...def];
  const parts = String(raw).split(',');
  return parts.map((p) => {
    const n = Number(p.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} takes positive integers separated by commas, got "${String(raw)}"`);
    return n;
  });
}

/** A comma-separated subset of `choices`, in the order given by `choices`. */
export function choiceList<T extends string>(flags: ParsedFlags, name: string, choices: readonly T[]): T[] {
  const raw = flags[name];
  if (raw === undefined) return [...choices];
  const want = String(raw).split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const w of want) {
    if (!(choices as readonly string[]).includes(w)) throw new UsageError(`--${name}: unknown value "${w}" (choose from ${choices.join(', ')})`);
  }
  return choices.filter((c) => want.includes(c));
}

/** One value of `choices`, or `def` when the flag is absent. */
export function oneOf<T extends string>(flags: ParsedFlags, name: string, choices: readonly T[], def: T): T {
  const raw = flags[name];
  if (raw === undefined) return def;
  if (!(choices as readonly string[]).includes(String(raw))) throw new UsageError(`--${name} takes one of ${choices.join(', ')}, got "${String(raw)}"`);
  return raw as T;
}

export function toolList(flags: ParsedFlags): ToolName[] {
  const tools = choiceList(flags, 'tools', TOOL_NAMES);
  if (!tools.includes('tsbuild')) throw new UsageError('--tools must include tsbuild: every figure is compared with it');
  return tools;
}
