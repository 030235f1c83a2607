/**
 * Digest check for performance work on parse + convert + marshal: converts a fixed corpus of
 * Dockerfiles (the compat cases, BuildKit's parser test files when the anchors are present, and the
 * generated bench file at a few sizes, every stage as a target) and records the sha256 of each
 * whole encoded definition (ops, metadata and sources, so any change in any vertex shows).
 *
 *   node dist/bench/parse/digests.js --write before.json      # before a change
 *   node dist/bench/parse/digests.js --compare before.json    # after it: exit 1 on any difference
 *
 * Files that do not convert record their error code, so a change in what fails shows too. This is
 * a tool, not a test: the baseline is whatever the code did before the change being checked.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDockerfile } from '../../src/frontend/dockerfile/parse.js';
import { convertDockerfile } from '../../src/frontend/dockerfile/convert/convert.js';
import type { ConvertOptions } from '../../src/frontend/types.js';
import { sha256Digest } from '../../src/llb/digest.js';
import { generateDockerfile } from './generate.js';

// Run from dist/bench/parse: the repository root is three levels up (or given with --repo).
const repoArg = process.argv.indexOf('--repo');
const root = resolve(repoArg >= 0 ? process.argv[repoArg + 1] ?? '.' : join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'));
const anchors = resolve(root, '..', 'shared', 'anchors', 'buildkit-parser-testfiles', 'testfiles');

function corpus(): [name: string, text: string][] {
  const out: [string, string][] = [];
  const dirs: [string, string][] = [['compat', join(root, 'test', 'compat', 'cases')], ['buildkit', anchors]];
  for (const [prefix, dir] of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const file = join(dir, name, 'Dockerfile');
      if (existsSync(file)) out.push([`${prefix}/${name}`, readFileSync(file, 'utf8')]);
    }
  }
  for (const n of [1, 30, 600, 10_000]) out.push([`generated/${n}`, generateDockerfile(n)]);
  return out;
}

async function digestsOf(name: string, text: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const ast = (() => {
    try {
      return parseDockerfile(text, { file: 'Dockerfile' });
    } catch (e) {
      out[name] = `parse error ${(e as { code?: string }).code ?? String(e)}`;
      return undefined;
    }
  })();
  if (!ast) return out;
  const targets: (string | undefined)[] = [undefined];
  // Every named stage as a target as well (unnamed ones cannot be targeted).
  for (const c of ast.children) {
    if (c.keyword.toLowerCase() !== 'from') continue;
    const as = c.args.findIndex((w) => w.toLowerCase() === 'as');
    const stage = c.args[as + 1];
    if (as > 0 && stage !== undefined) targets.push(stage);
  }
  // The default target with other options as well: no-cache, .dockerignore, labels, another arch.
  const variants: [suffix: string, opts: ConvertOptions][] = [
    ...targets.map((target): [string, ConvertOptions] => (target === undefined ? ['', {}] : [`@${target}`, { target }])),
    ['#opts', { noCache: true, dockerignore: ['*.tmp', '!keep.tmp'], labels: new Map([['a', 'b']]), platform: 'linux/arm64/v8', contextName: 'ctx' }],
  ];
  for (const [suffix, opts] of variants) {
    const key = `${name}${suffix}`;
    try {
      const r = await convertDockerfile(ast, { platform: 'linux/amd64', buildArgs: new Map([['VERSION', '2.0.0']]), ...opts });
      out[key] = sha256Digest(r.definition.bytes);
      const rest = { image: r.image, target: r.target, stages: r.stages, graph: r.graph, warnings: r.warnings };
      out[`${key}:config`] = sha256Digest(new TextEncoder().encode(JSON.stringify(rest)));
    } catch (e) {
      out[key] = `convert error ${(e as { code?: string }).code ?? String(e)}`;
    }
  }
  return out;
}

const all: Record<string, string> = {};
for (const [name, text] of corpus()) Object.assign(all, await digestsOf(name, text));

const w = process.argv.indexOf('--write');
const c = process.argv.indexOf('--compare');
if (w >= 0) {
  writeFileSync(process.argv[w + 1] ?? 'digests.json', `${JSON.stringify(all, null, 1)}\n`);
  process.stdout.write(`wrote ${Object.keys(all).length} entries\n`);
} else if (c >= 0) {
  const before = JSON.parse(readFileSync(process.argv[c + 1] ?? 'digests.json', 'utf8')) as Record<string, string>;
  const keys = [...new Set([...Object.keys(before), ...Object.keys(all)])].sort();
  const diff = keys.filter((k) => before[k] !== all[k]);
  for (const k of diff) process.stdout.write(`DIFFERENT ${k}: ${before[k] ?? '(absent)'} → ${all[k] ?? '(absent)'}\n`);
  const converted = keys.filter((k) => all[k]?.startsWith('sha256:')).length;
  process.stdout.write(`${keys.length} entries (${converted} converted), ${diff.length} different\n`);
  process.exitCode = diff.length === 0 ? 0 : 1;
} else {
  process.stdout.write(`${JSON.stringify(all, null, 1)}\n`);
}
