/**
 * Loads the cases under test/compat/cases: each folder holds a Dockerfile, a case.json (validated
 * against the schema below, so a typo fails loudly with the file and the JSON path) and optionally a
 * context/ folder.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ajvModule from 'ajv';
import { repoRoot } from '../../helpers/paths.js';
import type { CaseSpec } from './types.js';

export const casesDir = join(repoRoot, 'test', 'compat', 'cases');

const octal = { type: 'string', pattern: '^[0-7]{3,4}$' };
const relPath = { type: 'string', minLength: 1, pattern: '^(?!/)(?!.*(^|/)\\.\\.(/|$))' };
const absPath = { type: 'string', pattern: '^/' };

const contextStep = {
  oneOf: [
    { type: 'object', additionalProperties: false, required: ['kind', 'path', 'mode'], properties: { kind: { const: 'chmod' }, path: relPath, mode: octal } },
    { type: 'object', additionalProperties: false, required: ['kind', 'path', 'uid', 'gid'], properties: { kind: { const: 'chown' }, path: relPath, uid: { type: 'integer', minimum: 0 }, gid: { type: 'integer', minimum: 0 } } },
    { type: 'object', additionalProperties: false, required: ['kind', 'path', 'target'], properties: { kind: { const: 'symlink' }, path: relPath, target: { type: 'string', minLength: 1 } } },
    { type: 'object', additionalProperties: false, required: ['kind', 'path', 'target'], properties: { kind: { const: 'hardlink' }, path: relPath, target: relPath } },
    { type: 'object', additionalProperties: false, required: ['kind', 'path'], properties: { kind: { const: 'mkdir' }, path: relPath, mode: octal } },
    { type: 'object', additionalProperties: false, required: ['kind', 'path', 'content'], properties: { kind: { const: 'write' }, path: relPath, content: { type: 'string' }, mode: octal } },
    {
      type: 'object', additionalProperties: false, required: ['kind', 'path', 'from', 'compression'],
      properties: {
        kind: { const: 'tar' }, path: relPath, from: relPath, compression: { enum: ['none', 'gzip', 'bzip2', 'xz'] },
        owner: { type: 'string', pattern: '^[0-9]+:[0-9]+$' }, members: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      },
    },
    { type: 'object', additionalProperties: false, required: ['kind', 'path', 'from'], properties: { kind: { const: 'gzip' }, path: relPath, from: relPath } },
    { type: 'object', additionalProperties: false, required: ['kind', 'path'], properties: { kind: { const: 'remove' }, path: relPath } },
  ],
};

const expectation = {
  oneOf: [
    { type: 'object', additionalProperties: false, required: ['kind', 'path'], properties: { kind: { const: 'absent' }, path: absPath } },
    { type: 'object', additionalProperties: false, required: ['kind', 'path'], properties: { kind: { const: 'removed' }, path: absPath } },
    {
      type: 'object', additionalProperties: false, required: ['kind', 'path'],
      properties: {
        kind: { const: 'entry' }, path: absPath, type: { enum: ['file', 'dir', 'symlink', 'char', 'block', 'fifo'] }, mode: octal,
        uid: { type: 'integer' }, gid: { type: 'integer' }, content: { type: 'string' }, linkname: { type: 'string' },
        hardlinks: { type: 'array', items: absPath, minItems: 2 },
      },
    },
  ],
};

export const caseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['description', 'mode'],
  properties: {
    $comment: { type: 'string' },
    description: { type: 'string', minLength: 1 },
    mode: { enum: ['compare', 'tsbuild-only'] },
    why: { type: 'string', minLength: 1 },
    dockerOutcome: { type: 'string', minLength: 1 },
    buildArgs: { type: 'object', additionalProperties: { type: 'string' } },
    addHosts: { type: 'array', items: { type: 'string', minLength: 1 } },
    target: { type: 'string', minLength: 1 },
    needs: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9-]+$' } },
    context: { type: 'array', items: contextStep },
    expect: { type: 'array', items: expectation },
  },
  if: { properties: { mode: { const: 'tsbuild-only' } } },
  then: { required: ['why', 'dockerOutcome'], properties: { why: { type: 'string' }, dockerOutcome: { type: 'string' } } },
};

// ajv is CommonJS with a `default` export; under NodeNext the import is the module object.
const Ajv = ajvModule.default;
const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(caseSchema);

/** A case folder that cannot be used; the message names the file and what is wrong. */
export class CaseError extends Error {
  readonly code = 'COMPAT_CASE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'CaseError';
  }
}

type CaseJson = Omit<CaseSpec, 'name' | 'dir' | 'buildArgs' | 'addHosts' | 'needs' | 'context' | 'expect'> & Partial<Pick<CaseSpec, 'buildArgs' | 'addHosts' | 'needs' | 'context' | 'expect'>>;

/** Reads and validates one case folder. */
export function loadCase(dir: string, name: string): CaseSpec {
  const file = join(dir, 'case.json');
  if (!existsSync(join(dir, 'Dockerfile'))) throw new CaseError(`${join(dir, 'Dockerfile')}: missing`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CaseError(`${file}: ${(e as Error).message}`);
  }
  if (!validate(json)) {
    const errs = (validate.errors ?? []).map((e) => {
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      return `${e.instancePath || '/'} ${e.message ?? ''}${extra ? ` "${extra}"` : ''}`;
    });
    throw new CaseError(`${file}: invalid case: ${[...new Set(errs)].slice(0, 5).join('; ')}`);
  }
  const j = json as CaseJson;
  return { name, dir, buildArgs: {}, addHosts: [], needs: [], context: [], expect: [], ...j };
}

/**
 * All cases, every case after the cases it needs (then by name). Unknown needs, cycles and a
 * compare case needing a tsbuild-only case are errors.
 */
export function loadCases(root: string = casesDir): CaseSpec[] {
  const names = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const byName = new Map(names.map((n) => [n, loadCase(join(root, n), n)]));
  const out: CaseSpec[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (c: CaseSpec, chain: readonly string[]): void => {
    const s = state.get(c.name);
    if (s === 'done') return;
    if (s === 'visiting') throw new CaseError(`cases: dependency cycle ${[...chain, c.name].join(' -> ')}`);
    state.set(c.name, 'visiting');
    for (const n of c.needs) {
      const dep = byName.get(n);
      if (!dep) throw new CaseError(`${join(c.dir, 'case.json')}: needs unknown case "${n}"`);
      if (c.mode === 'compare' && dep.mode !== 'compare') throw new CaseError(`${join(c.dir, 'case.json')}: a compare case cannot need tsbuild-only case "${n}"`);
      visit(dep, [...chain, c.name]);
    }
    state.set(c.name, 'done');
    out.push(c);
  };
  for (const n of names) visit(byName.get(n) as CaseSpec, []);
  return out;
}
