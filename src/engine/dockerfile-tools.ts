/**
 * `tsbuild parse` and `tsbuild llb` on the engine's side: the Dockerfile front end run on its own,
 * nothing built. They need no data root, so they are static Engine methods. The answer is the
 * rendered text (BuildKit's AST dump, JSON, Graphviz dot) plus the warnings, for the client to print.
 */
import { astToJson } from '../frontend/dockerfile/ast-json.js';
import { convertDockerfile } from '../frontend/dockerfile/convert/convert.js';
import { parseInstructions } from '../frontend/dockerfile/instructions/stages.js';
import { typedDockerfileToJSON } from '../frontend/dockerfile/instructions/to-json.js';
import { dumpAST, parseDockerfile } from '../frontend/dockerfile/parse.js';
import { loadDockerignore } from '../frontend/dockerignore.js';
import type { LoadDockerignoreOptions } from '../frontend/dockerignore.js';
import type { ConvertResult } from '../frontend/types.js';
import { definitionToJSON } from '../llb/describe.js';
import { renderDot } from '../llb/dot.js';
import { assertNever, throwIfAborted } from '../util/errors.js';
import type { CallOptions, DockerfileSource, LlbRequest, LlbResult, ParseRequest, ParseResult } from './types.js';

/** Where a request's ignore file comes from: its text when the request carries it, else the files. */
export function dockerignoreOptions(
  req: { readonly contextDir: string; readonly dockerfile: DockerfileSource; readonly dockerignore?: string }, signal: AbortSignal,
): LoadDockerignoreOptions & { readonly signal: AbortSignal } {
  const path = req.dockerfile.path;
  return { contextDir: req.contextDir, signal, ...(path !== undefined ? { dockerfilePath: path } : {}), ...(req.dockerignore !== undefined ? { text: req.dockerignore } : {}) };
}

export function dockerfileBytes(d: { readonly content: string }): Buffer {
  return Buffer.from(d.content, 'base64');
}

export async function parseToText(req: ParseRequest, opts: CallOptions): Promise<ParseResult> {
  throwIfAborted(opts.signal);
  const ast = parseDockerfile(dockerfileBytes(req.dockerfile), { file: req.dockerfile.name });
  const warnings = ast.warnings.map((w) => ({ line: w.line, message: w.message }));
  switch (req.format) {
    case 'dump':
      return { text: dumpAST(ast), warnings };
    case 'json':
      return { text: typedDockerfileToJSON(parseInstructions(ast), ast), warnings };
    case 'ast':
      return { text: astToJson(ast), warnings };
    default:
      return assertNever(req.format, 'format');
  }
}

function toJSON(r: ConvertResult): string {
  return `${JSON.stringify({
    target: r.target,
    definition: definitionToJSON(r.definition.loaded),
    image: r.image,
    stages: r.stages,
    warnings: r.warnings,
  }, null, 2)}\n`;
}

export async function convertToText(req: LlbRequest, opts: CallOptions): Promise<LlbResult> {
  const file = req.dockerfile.name;
  const ast = parseDockerfile(dockerfileBytes(req.dockerfile), { file });
  const ignore = await loadDockerignore(dockerignoreOptions(req, opts.signal));
  const result = await convertDockerfile(ast, {
    ...(req.target !== undefined ? { target: req.target } : {}),
    ...(req.platform !== undefined ? { platform: req.platform } : {}),
    buildArgs: new Map(Object.entries(req.buildArgs)),
    labels: new Map(Object.entries(req.labels)),
    dockerignore: ignore.patterns,
    noCache: req.noCache,
    noCacheFilter: req.noCacheFilter,
    signal: opts.signal,
  });
  const warnings = result.warnings.map((w) => ({ code: w.code, message: w.message, ...(w.location ? { location: w.location } : {}) }));
  const text = req.format === 'dot' ? renderDot(result.definition.loaded, { title: `${file} (target ${result.target})` }) : toJSON(result);
  return { text, warnings };
}
