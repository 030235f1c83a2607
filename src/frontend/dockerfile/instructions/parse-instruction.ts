/**
 * AST node → typed instruction. One function per instruction (COPY/ADD and RUN/HEALTHCHECK live in
 * their own files); each rejects unknown flags and wrong argument counts with a located error.
 */
import type { InstructionNode } from '../ast.js';
import { compactArray } from '../../../util/compact-array.js';
import { didYouMean } from '../../../util/did-you-mean.js';
import { Diagnostics, fail } from './diagnostics.js';
import { parseFlags } from './flags.js';
import { parsePortSpec } from './expose.js';
import { isValidSignal } from './signal.js';
import { parseAdd, parseCopy } from './parse-copy.js';
import { parseHealthcheck, parseRun } from './parse-run.js';
import { INSTRUCTION_KINDS } from './instruction.js';
import type { ArgDecl, Instruction, InstructionKind, KeyValue } from './instruction.js';
import { atLeastOne, commandLine, exactlyOne, isLiteral, locationOf, siteOf } from './site.js';
import type { ParseContext } from './site.js';

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function noFlags(node: InstructionNode, kind: string, ctx: ParseContext): void {
  if (node.flags.length > 0) parseFlags(node.flags, {}, kind, siteOf(node, ctx));
}

function keyValues(node: InstructionNode, kind: 'ENV' | 'LABEL', ctx: ParseContext): readonly KeyValue[] {
  const site = siteOf(node, ctx);
  atLeastOne(node, kind, site);
  if (node.args.length % 3 !== 0) fail(Diagnostics.badArguments, [`bad input to ${kind}, too many arguments`], site);
  const out: KeyValue[] = [];
  for (let i = 0; i < node.args.length; i += 3) {
    const key = node.args[i] as string;
    if (key === '') fail(Diagnostics.badArguments, [`${kind} names can not be blank`], site);
    out.push({ key, value: node.args[i + 1] as string, legacy: node.args[i + 2] !== '=' });
  }
  return compactArray(out);
}

function parseFrom(node: InstructionNode, ctx: ParseContext): Instruction {
  const site = siteOf(node, ctx);
  const f = parseFlags(node.flags, { platform: 'string' }, 'FROM', site);
  const a = node.args;
  let stageName: string | undefined;
  if (a.length === 3 && (a[1] as string).toLowerCase() === 'as') {
    stageName = (a[2] as string).toLowerCase();
    if (!STAGE_NAME.test(stageName)) fail(Diagnostics.badStageName, [a[2] as string], site, a[2]);
  } else if (a.length !== 1) {
    fail(Diagnostics.badArguments, ['FROM requires either one or three arguments (FROM image [AS name])'], site);
  }
  return { kind: 'FROM', location: locationOf(node, ctx), original: node.original.trim(), node, image: a[0] as string, stageName, platform: f.string('platform') };
}

function parseArg(node: InstructionNode, ctx: ParseContext): Instruction {
  noFlags(node, 'ARG', ctx);
  const site = siteOf(node, ctx);
  atLeastOne(node, 'ARG', site);
  const args: ArgDecl[] = node.args.map((w) => {
    const eq = w.indexOf('=');
    const key = eq < 0 ? w : w.slice(0, eq);
    if (key === '') fail(Diagnostics.badArguments, ['ARG names can not be blank'], site);
    return { key, value: eq < 0 ? undefined : w.slice(eq + 1) };
  });
  return { kind: 'ARG', location: locationOf(node, ctx), original: node.original.trim(), node, args: compactArray(args) };
}

function parseOnbuild(node: InstructionNode, ctx: ParseContext): Instruction {
  noFlags(node, 'ONBUILD', ctx);
  const site = siteOf(node, ctx);
  const inner = node.onbuild;
  if (!inner) return fail(Diagnostics.badArguments, ['ONBUILD requires at least one argument'], site);
  const kw = inner.keyword.toUpperCase();
  const innerSite = { ...site, column: inner.column };
  if (kw === 'ONBUILD') fail(Diagnostics.badOnbuild, ['chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed'], innerSite);
  if (kw === 'FROM' || kw === 'MAINTAINER') fail(Diagnostics.badOnbuild, [`${kw} isn't allowed as an ONBUILD trigger`], innerSite);
  const trigger = parseInstruction(inner, ctx);
  let expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
  const heredocs = inner.heredocs.length > 0 ? inner.heredocs : node.heredocs;
  for (const h of heredocs) expression += `\n${h.content}${h.name}`;
  return { kind: 'ONBUILD', location: locationOf(node, ctx), original: node.original.trim(), node, expression, trigger };
}

/** Types one instruction. Throws a located UserInputError for anything Docker would reject. */
export function parseInstruction(node: InstructionNode, ctx: ParseContext): Instruction {
  const kind = node.keyword.toUpperCase();
  const site = siteOf(node, ctx);
  if (!(INSTRUCTION_KINDS as readonly string[]).includes(kind)) {
    fail(Diagnostics.unknownInstruction, [node.keyword, didYouMean(kind, INSTRUCTION_KINDS)], site, node.keyword);
  }
  const k = kind as InstructionKind;
  switch (k) {
    case 'FROM': return parseFrom(node, ctx);
    case 'RUN': return parseRun(node, ctx);
    case 'COPY': return parseCopy(node, ctx);
    case 'ADD': return parseAdd(node, ctx);
    case 'HEALTHCHECK': return parseHealthcheck(node, ctx);
    case 'ARG': return parseArg(node, ctx);
    case 'ONBUILD': return parseOnbuild(node, ctx);
    case 'CMD':
      noFlags(node, k, ctx);
      return { kind: 'CMD', location: locationOf(node, ctx), original: node.original.trim(), node, command: commandLine(node) };
    case 'ENTRYPOINT':
      noFlags(node, k, ctx);
      return { kind: 'ENTRYPOINT', location: locationOf(node, ctx), original: node.original.trim(), node, command: commandLine(node) };
    case 'SHELL':
      noFlags(node, k, ctx);
      atLeastOne(node, k, site);
      if (!node.json) fail(Diagnostics.notJSON, ['SHELL'], site);
      return { kind: 'SHELL', location: locationOf(node, ctx), original: node.original.trim(), node, shell: compactArray(node.args) };
    case 'ENV':
      noFlags(node, k, ctx);
      return { kind: 'ENV', location: locationOf(node, ctx), original: node.original.trim(), node, pairs: keyValues(node, 'ENV', ctx) };
    case 'LABEL':
      noFlags(node, k, ctx);
      return { kind: 'LABEL', location: locationOf(node, ctx), original: node.original.trim(), node, pairs: keyValues(node, 'LABEL', ctx) };
    case 'EXPOSE': {
      noFlags(node, k, ctx);
      atLeastOne(node, k, site);
      for (const p of node.args) {
        if (!isLiteral(p)) continue; // checked after expansion
        const r = parsePortSpec(p);
        if ('error' in r) fail(Diagnostics.badExpose, [p, r.error], site, p);
      }
      return { kind: 'EXPOSE', location: locationOf(node, ctx), original: node.original.trim(), node, ports: compactArray(node.args) };
    }
    case 'USER':
      noFlags(node, k, ctx);
      return { kind: 'USER', location: locationOf(node, ctx), original: node.original.trim(), node, user: exactlyOne(node, k, site) };
    case 'WORKDIR':
      noFlags(node, k, ctx);
      return { kind: 'WORKDIR', location: locationOf(node, ctx), original: node.original.trim(), node, path: exactlyOne(node, k, site) };
    case 'VOLUME': {
      noFlags(node, k, ctx);
      atLeastOne(node, k, site);
      const volumes = node.args.map((v) => v.trim());
      if (volumes.some((v) => v === '')) fail(Diagnostics.badArguments, ['VOLUME specified can not be an empty string'], site);
      return { kind: 'VOLUME', location: locationOf(node, ctx), original: node.original.trim(), node, volumes: compactArray(volumes) };
    }
    case 'STOPSIGNAL': {
      noFlags(node, k, ctx);
      const signal = exactlyOne(node, k, site);
      if (isLiteral(signal) && !isValidSignal(signal)) fail(Diagnostics.badSignal, [signal], site, signal);
      return { kind: 'STOPSIGNAL', location: locationOf(node, ctx), original: node.original.trim(), node, signal };
    }
    case 'MAINTAINER':
      noFlags(node, k, ctx);
      return { kind: 'MAINTAINER', location: locationOf(node, ctx), original: node.original.trim(), node, maintainer: exactlyOne(node, k, site) };
  }
}
