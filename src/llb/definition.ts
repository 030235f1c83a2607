/**
 * `loadDefinition(bytes)`: decodes an encoded Definition into the typed graph the solver runs,
 * recomputing every digest from the bytes and validating references, so a definition that crossed
 * a process boundary (gRPC, a file) is checked before anything executes it.
 */
import { tsbuild } from './gen/llb.js';
import { sha256Digest } from './digest.js';
import { TsbuildError } from '../util/errors.js';
import type { DefinitionSource, Digest, LLBOp, LLBVertex, LoadedDefinition, OpLocation, OpMetadataInfo, PbOp, Strict, VertexRef } from './types.js';

export class InvalidDefinitionError extends TsbuildError {
  constructor(message: string, cause?: unknown) {
    super('LLB_INVALID', `invalid LLB definition: ${message}`, cause === undefined ? {} : { cause });
    this.name = 'InvalidDefinitionError';
  }
}

const EMPTY_METADATA: OpMetadataInfo = { ignoreCache: false, description: '', stage: '', step: 0, steps: 0, locations: [] };

function typedOp(decoded: tsbuild.llb.Op, digest: Digest): LLBOp {
  // Decoded messages carry every scalar/repeated field (prototype defaults): see `Strict`.
  const op = decoded as unknown as PbOp;
  switch (op.op) {
    case 'source': if (op.source) return { kind: 'source', source: op.source, pb: op }; break;
    case 'exec': if (op.exec) return { kind: 'exec', exec: op.exec, pb: op }; break;
    case 'file': if (op.file) return { kind: 'file', file: op.file, pb: op }; break;
    case 'merge': if (op.merge) return { kind: 'merge', merge: op.merge, pb: op }; break;
    default: break;
  }
  throw new InvalidDefinitionError(`op ${digest} has no body`);
}

interface LongLike { low: number; high: number; toNumber(): number }

function isLong(x: unknown): x is LongLike {
  return typeof x === 'object' && x !== null && typeof (x as LongLike).toNumber === 'function' && typeof (x as LongLike).low === 'number';
}

/**
 * protobufjs decodes int64 fields (timestamps, tmpfs sizes) to `Long` objects when the `long`
 * package is installed, whatever the generated types say; LLB values all fit in a double, so they
 * are turned into numbers in place (the message is freshly decoded and ours).
 */
function longsToNumbers(msg: object): void {
  const rec = msg as Record<string, unknown>;
  for (const k of Object.keys(rec)) {
    const v = rec[k];
    if (isLong(v)) rec[k] = v.toNumber();
    else if (Array.isArray(v)) for (const e of v) { if (typeof e === 'object' && e !== null && !(e instanceof Uint8Array)) longsToNumbers(e); }
    else if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) longsToNumbers(v);
  }
}

/** How many outputs an op produces. */
export function outputCount(op: LLBOp): number {
  switch (op.kind) {
    case 'source': return 1;
    case 'merge': return 1;
    case 'exec': return op.exec.mounts.filter((m) => m.output >= 0).length;
    case 'file': return op.file.actions.filter((a) => a.output >= 0).length;
  }
}

function checkIndexes(op: LLBOp, nInputs: number, digest: Digest): void {
  const bad = (what: string): never => {
    throw new InvalidDefinitionError(`op ${digest}: ${what}`);
  };
  switch (op.kind) {
    case 'source':
      if (nInputs !== 0) bad('a source op takes no inputs');
      if (!op.source.identifier) bad('source op without identifier');
      return;
    case 'merge':
      if (op.merge.inputs.length === 0) bad('merge op without inputs');
      for (const m of op.merge.inputs) if (m.input < 0 || m.input >= nInputs) bad(`merge input ${m.input} out of range`);
      return;
    case 'exec': {
      const meta = op.exec.meta;
      if (!meta || meta.args.length === 0) bad('exec op without args');
      if (!op.exec.mounts.some((m) => m.dest === '/')) bad('exec op without a root mount');
      const outs = op.exec.mounts.filter((m) => m.output >= 0).map((m) => m.output).sort((a, b) => a - b);
      outs.forEach((o, i) => { if (o !== i) bad('exec mount outputs must be 0..n-1'); });
      for (const m of op.exec.mounts) if (m.input < -1 || m.input >= nInputs) bad(`mount input ${m.input} out of range`);
      return;
    }
    case 'file': {
      const actions = op.file.actions;
      if (actions.length === 0) bad('file op without actions');
      const outs = actions.filter((a) => a.output >= 0).map((a) => a.output).sort((a, b) => a - b);
      outs.forEach((o, i) => { if (o !== i) bad('file action outputs must be 0..n-1'); });
      actions.forEach((a, k) => {
        const limit = nInputs + k;
        if (a.input < -1 || a.input >= limit) bad(`file action ${k} input ${a.input} out of range`);
        if (a.copy && (a.secondaryInput < -1 || a.secondaryInput >= limit)) bad(`file action ${k} secondary input ${a.secondaryInput} out of range`);
        if (!a.action) bad(`file action ${k} has no body`);
      });
      return;
    }
  }
}

function metadataInfo(m: Strict<tsbuild.llb.OpMetadata.$Properties> | undefined): OpMetadataInfo {
  if (!m) return EMPTY_METADATA;
  const locations: OpLocation[] = m.locations.map((l) => ({
    sourceIndex: l.sourceIndex,
    startLine: l.startLine,
    endLine: l.endLine,
    startColumn: l.startColumn,
  }));
  return { ignoreCache: m.ignoreCache, description: m.description, stage: m.stage, step: m.step, steps: m.steps, locations };
}

/** Decodes and validates an encoded Definition. Throws InvalidDefinitionError. */
export function loadDefinition(bytes: Uint8Array): LoadedDefinition {
  let def: Strict<tsbuild.llb.Definition.$Properties>;
  try {
    def = tsbuild.llb.Definition.decode(bytes) as unknown as Strict<tsbuild.llb.Definition.$Properties>;
  } catch (e) {
    throw new InvalidDefinitionError('cannot decode definition', e);
  }
  const metadata = new Map<string, Strict<tsbuild.llb.OpMetadata.$Properties>>();
  for (const e of def.metadata) if (e.metadata) metadata.set(e.digest, e.metadata);

  const vertices = new Map<Digest, LLBVertex>();
  let root: VertexRef | undefined;
  def.def.forEach((opBytes, i) => {
    const digest = sha256Digest(opBytes);
    let decoded: tsbuild.llb.Op;
    try {
      decoded = tsbuild.llb.Op.decode(opBytes);
    } catch (e) {
      throw new InvalidDefinitionError(`op ${i} cannot be decoded`, e);
    }
    if (decoded.file || decoded.exec) longsToNumbers(decoded);
    const pb = decoded as unknown as PbOp;
    const inputs: VertexRef[] = pb.inputs.map((inp) => {
      const v = vertices.get(inp.digest);
      if (!v) throw new InvalidDefinitionError(`op ${digest} refers to ${inp.digest}, which does not come before it`);
      if (inp.index < 0 || inp.index >= v.outputs) throw new InvalidDefinitionError(`op ${digest} uses output ${inp.index} of ${inp.digest}, which has ${v.outputs}`);
      return { digest: inp.digest, index: inp.index };
    });
    if (i === def.def.length - 1) {
      if (pb.op !== undefined) throw new InvalidDefinitionError('the last op must be the terminal (inputs only, no body)');
      if (inputs.length !== 1) throw new InvalidDefinitionError('the terminal op must have exactly one input');
      root = inputs[0];
      return;
    }
    if (vertices.has(digest)) return;
    const op = typedOp(decoded, digest);
    checkIndexes(op, inputs.length, digest);
    vertices.set(digest, { digest, op, inputs, outputs: outputCount(op), metadata: metadataInfo(metadata.get(digest)), bytes: opBytes });
  });
  const sources: DefinitionSource[] = def.sources.map((s) => ({ filename: s.filename, data: s.data }));
  return { vertices, root, sources };
}

/** The vertices `root` depends on (itself included), inputs first. */
export function reachableVertices(def: LoadedDefinition, root: VertexRef | undefined = def.root): LLBVertex[] {
  if (!root) return [];
  const want = new Set<Digest>([root.digest]);
  const out: LLBVertex[] = [];
  const all = [...def.vertices.values()];
  for (let i = all.length - 1; i >= 0; i--) {
    const v = all[i] as LLBVertex;
    if (!want.has(v.digest)) continue;
    out.push(v);
    for (const inp of v.inputs) want.add(inp.digest);
  }
  return out.reverse();
}
