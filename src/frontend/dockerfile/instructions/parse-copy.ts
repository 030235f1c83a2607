/** COPY and ADD: sources (paths, URLs, heredocs), destination and every documented flag. */
import type { InstructionNode } from '../ast.js';
import { Diagnostics, fail } from './diagnostics.js';
import type { ErrorSite } from './diagnostics.js';
import { parseFlags, type FlagSpecs } from './flags.js';
import { heredocBody, heredocMarkerName } from './heredoc.js';
import { parseChmod } from './chmod.js';
import type { AddInstruction, CopyInstruction, HeredocSource } from './instruction.js';
import { isLiteral, locationOf, siteOf } from './site.js';
import { compactArray } from '../../../util/compact-array.js';
import type { ParseContext } from './site.js';

/** An ADD --checksum value. */
const CHECKSUM = /^sha(256:[0-9a-f]{64}|384:[0-9a-f]{96}|512:[0-9a-f]{128})$/;

interface SourcesAndDest {
  readonly sources: readonly string[];
  readonly heredocSources: readonly HeredocSource[];
  readonly dest: string;
}

function sourcesAndDest(node: InstructionNode, kind: string, site: ErrorSite): SourcesAndDest {
  if (node.args.length < 2) {
    fail(Diagnostics.badArguments, [`${kind} requires at least two arguments, but only ${node.args.length === 1 ? 'one was' : 'none were'} provided. Destination could not be determined`], site);
  }
  const dest = node.args[node.args.length - 1] as string;
  if (heredocMarkerName(dest) !== undefined && node.heredocs.length > 0) {
    fail(Diagnostics.badArguments, [`${kind} cannot accept a heredoc as a destination`], site, dest);
  }
  const sources: string[] = [];
  const heredocSources: HeredocSource[] = [];
  for (const src of node.args.slice(0, -1)) {
    const name = heredocMarkerName(src);
    const h = name === undefined ? undefined : node.heredocs.find((x) => x.name === name);
    if (h) heredocSources.push({ path: h.name, data: heredocBody(h), expand: h.expand });
    else sources.push(src);
  }
  return { sources: compactArray(sources), heredocSources: compactArray(heredocSources), dest };
}

/** Validates a literal --chmod now; values with variables are checked after expansion. */
export function checkChmod(value: string | undefined, site: ErrorSite): void {
  if (value === undefined || !isLiteral(value)) return;
  const c = parseChmod(value);
  if ('error' in c) fail(Diagnostics.badChmod, [value, c.error], site, `--chmod=${value}`);
}

/** The flags of COPY and ADD (module constants: a literal at the call was an object per instruction). */
const COPY_FLAGS: FlagSpecs = { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' };
const ADD_FLAGS: FlagSpecs = {
  chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool', exclude: 'strings',
};

export function parseCopy(node: InstructionNode, ctx: ParseContext): CopyInstruction {
  const site = siteOf(node, ctx);
  const f = parseFlags(node.flags, COPY_FLAGS, 'COPY', site);
  const sd = sourcesAndDest(node, 'COPY', site);
  const chmod = f.string('chmod');
  checkChmod(chmod, site);
  const from = f.string('from');
  if (from === '') fail(Diagnostics.badFlag, ['--from for COPY must not be empty'], site, '--from');
  return {
    kind: 'COPY',
    location: locationOf(node, ctx),
    original: node.original.trim(),
    node,
    sources: sd.sources,
    heredocSources: sd.heredocSources,
    dest: sd.dest,
    from,
    chown: f.string('chown'),
    chmod,
    link: f.bool('link') ?? false,
    parents: f.bool('parents') ?? false,
    exclude: f.strings('exclude'),
  };
}

export function parseAdd(node: InstructionNode, ctx: ParseContext): AddInstruction {
  const site = siteOf(node, ctx);
  const f = parseFlags(node.flags, ADD_FLAGS, 'ADD', site);
  const sd = sourcesAndDest(node, 'ADD', site);
  const chmod = f.string('chmod');
  checkChmod(chmod, site);
  const checksum = f.string('checksum');
  if (checksum !== undefined && isLiteral(checksum) && !CHECKSUM.test(checksum)) {
    fail(Diagnostics.badFlag, [`invalid --checksum "${checksum}": expected sha256:<64 hex digits>`], site, '--checksum');
  }
  return {
    kind: 'ADD',
    location: locationOf(node, ctx),
    original: node.original.trim(),
    node,
    sources: sd.sources,
    heredocSources: sd.heredocSources,
    dest: sd.dest,
    chown: f.string('chown'),
    chmod,
    link: f.bool('link') ?? false,
    exclude: f.strings('exclude'),
    checksum,
    keepGitDir: f.bool('keep-git-dir'),
    unpack: f.bool('unpack'),
  };
}
