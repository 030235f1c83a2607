/** What a shared vertex (shared-vertex.ts) tells the solver and the build's step records. */
import type { CacheRecord } from './cache-types.js';
import type { KeyPart } from './cache-key.js';
import type { CacheMap, MissReason } from './types.js';

export interface KeyInfo {
  readonly key: string;
  readonly cacheMap: CacheMap;
  readonly parts: readonly KeyPart[];
}

export type Decision =
  | { readonly hit: true; readonly key: KeyInfo; readonly records: ReadonlyMap<number, CacheRecord> }
  | {
      readonly hit: false;
      readonly key: KeyInfo;
      readonly reason: MissReason;
      /** Re-executed although its key may have a record (ignore-cache, here or upstream): replace it. */
      readonly rebuild: boolean;
    };

export type ExecState = 'none' | 'running' | 'done' | 'failed' | 'canceled';

/** What a build needs to know about the vertex to write its step record. */
export interface VertexView {
  readonly key: string | undefined;
  readonly decision: 'hit' | 'miss' | undefined;
  readonly missReason: MissReason | undefined;
  readonly exec: ExecState;
  readonly execReason: MissReason | undefined;
  readonly started: number | undefined;
  readonly completed: number | undefined;
  readonly why: string | undefined;
  readonly opDigest: string | undefined;
  readonly keyParts: readonly KeyPart[] | undefined;
}
