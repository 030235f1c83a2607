/**
 * Instruction flags (`--from=builder`, `--link`, `--mount=…` repeated), checked like BuildKit's
 * BFlags: `--name=value` for string flags, bare or `=true|false` for booleans, repeatable list
 * flags, `--` ends the flags. Unknown flags name the closest known one.
 */
import { didYouMean } from '../../../util/did-you-mean.js';
import { Diagnostics, fail } from './diagnostics.js';
import type { ErrorSite } from './diagnostics.js';
import { EMPTY } from '../../../util/compact-array.js';

export type FlagKind = 'bool' | 'string' | 'strings';

export type FlagSpecs = Readonly<Record<string, FlagKind>>;

export interface ParsedFlags {
  string(name: string): string | undefined;
  /** undefined when not given. */
  bool(name: string): boolean | undefined;
  strings(name: string): readonly string[];
}

/** What every instruction written without flags gets (most of them): nothing to look up. */
const NO_FLAGS: ParsedFlags = {
  string: () => undefined,
  bool: () => undefined,
  strings: () => EMPTY,
};

/**
 * The flags an instruction was written with: two parallel lists (a name's kind is fixed by the
 * specs). A class, not an object of closures: four closures and their context per flagged
 * instruction were ~850 bytes of garbage each (5 % of a conversion's allocation).
 */
class FlagValues implements ParsedFlags {
  constructor(private readonly names: readonly string[], private readonly values: readonly (string | boolean | string[])[]) {}

  private get(n: string): string | boolean | string[] | undefined {
    const i = this.names.indexOf(n);
    return i < 0 ? undefined : this.values[i];
  }

  string(n: string): string | undefined {
    const v = this.get(n);
    return typeof v === 'string' ? v : undefined;
  }

  bool(n: string): boolean | undefined {
    const v = this.get(n);
    return typeof v === 'boolean' ? v : undefined;
  }

  /** The shared empty list when absent: typed instructions keep it (COPY --exclude) for the build. */
  strings(n: string): readonly string[] {
    const v = this.get(n);
    return Array.isArray(v) ? v : EMPTY;
  }
}

export function parseFlags(raw: readonly string[], specs: FlagSpecs, kind: string, site: ErrorSite): ParsedFlags {
  if (raw.length === 0) return NO_FLAGS;
  // Flags are few per instruction: two parallel lists (a name's kind is fixed by `specs`) cost
  // less than a Map per kind, built for every instruction that has flags.
  // At most one entry per raw flag: made at that length (an array grown by `push` starts with
  // room for 16 more elements), and cut to the count at the end.
  const names: string[] = new Array<string>(raw.length);
  const values: (string | boolean | string[])[] = new Array<string | boolean | string[]>(raw.length);
  let count = 0;
  for (const arg of raw) {
    if (arg === '--') break;
    if (!arg.startsWith('--')) fail(Diagnostics.badFlag, [`invalid flag "${arg}" for ${kind}: flags start with --`], site, arg);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const value = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const spec = specs[name];
    if (spec === undefined) {
      const hint = didYouMean(name, Object.keys(specs)).replace(/mean (\S+)\?/, 'mean --$1?');
      fail(Diagnostics.unknownFlag, [name, kind, hint], site, `--${name}`);
    }
    const at = names.indexOf(name);
    if (spec !== 'strings' && at >= 0) {
      fail(Diagnostics.badFlag, [`duplicate flag --${name} for ${kind}`], site, `--${name}`);
    }
    switch (spec) {
      case 'bool': {
        if (value === undefined) { names[count] = name; values[count++] = true; break; }
        const v = value.toLowerCase();
        if (v === '') fail(Diagnostics.badFlag, [`missing a value on flag --${name} for ${kind}`], site, arg);
        if (v !== 'true' && v !== 'false') fail(Diagnostics.badFlag, [`expecting boolean value for flag --${name}, not: ${value}`], site, arg);
        names[count] = name;
        values[count++] = v === 'true';
        break;
      }
      case 'string':
        if (value === undefined) fail(Diagnostics.badFlag, [`missing a value on flag --${name} for ${kind} (use --${name}=VALUE)`], site, arg);
        names[count] = name;
        values[count++] = value;
        break;
      case 'strings':
        if (value === undefined) fail(Diagnostics.badFlag, [`missing a value on flag --${name} for ${kind} (use --${name}=VALUE)`], site, arg);
        if (at >= 0) (values[at] as string[]).push(value);
        else { names[count] = name; values[count++] = [value]; }
        break;
    }
  }
  names.length = count;
  values.length = count;
  return new FlagValues(names, values);
}
