/**
 * The public LLB API. Build graphs with `State`, encode with `state.marshal()`, decode with
 * `loadDefinition(bytes)`; see types.ts for the graph the solver consumes and docs/llb.md.
 */
export { tsbuild } from './gen/llb.js';
export type * from './types.js';
export { State, ExecState } from './state.js';
export { FileActions } from './file-actions.js';
export type { CopyOptions, MkdirOptions, OwnedOptions, RmOptions } from './file-actions.js';
export type { CacheSharing, ExecMount, ProxyEnv, RunOptions } from './exec.js';
export { EnvList } from './env-list.js';
export type { EnvEntry, NetworkMode, SecurityMode, StateLike, StateMeta } from './state-meta.js';
export { resolvePath } from './state-meta.js';
export type { GitSourceOptions, HttpSourceOptions, ImageSourceOptions, LocalSourceOptions } from './sources.js';
export { gitIdentifier } from './sources.js';
export type { MarshalOptions } from './marshal.js';
export { loadDefinition, reachableVertices, outputCount, InvalidDefinitionError } from './definition.js';
export { opCacheDigest } from './cache-digest.js';
export { sha256Digest, isDigest } from './digest.js';
export { encodeOp, canonicalOp } from './canonical.js';
export { parsePlatform, formatPlatform, hostPlatform, normalizeArch, samePlatform, InvalidPlatformError } from './platform.js';
export { SourceScheme, LocalAttr, HttpAttr, GitAttr, ImageAttr, attr, listAttr } from './source-attrs.js';
export { chownOpt } from './chown.js';
export { summarizeOp, vertexName, vertexToJSON, definitionToJSON } from './describe.js';
export { renderDot } from './dot.js';
