/**
 * The client contract (src/client/types.ts) and the engine's method types (src/engine/types.ts)
 * are written apart — the engine may not import the client — and must stay the same shapes: every
 * request, call option and answer of every Client method is identical to the engine method's.
 * Checked by `tsc --noEmit` (this file is in tsconfig's include); a field added on one
 * side only, or optional on one side and required on the other, fails the type check. The runtime
 * test only makes Jest count the file.
 */
import { expect, test } from '@jest/globals';
import type { Engine } from '../../src/engine/index.js';
import type { Client } from '../../src/client/types.js';

/**
 * True when A and B are the same type: the compiler's own identity check (an optional field present
 * on one side only, or a different modifier, makes them differ — plain mutual assignability would
 * let an extra optional field through).
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

/** listBuilds and attach reach other clients' builds, which only a daemon has: no engine twin. */
type Method = Exclude<keyof Client, 'close' | 'listBuilds' | 'attach'>;
type Static = 'parse' | 'llb' | 'login' | 'logout';
type EngineSide<M extends Method> = M extends Static ? (typeof Engine)[M] : M extends keyof Engine ? Engine[M] : never;

/** Request, call options and answer of one Client method against its engine twin. */
type Mirrors<M extends Method> = readonly [
  Same<Parameters<Client[M]>, Parameters<EngineSide<M>>>,
  Same<Awaited<ReturnType<Client[M]>>, Awaited<ReturnType<EngineSide<M>>>>,
];

type Checks = { readonly [M in Method]: Mirrors<M> };

const both = [true, true] as const;
const checks: Checks = {
  info: both,
  build: both,
  parse: both,
  llb: both,
  listImages: both,
  removeImage: both,
  tagImage: both,
  history: both,
  inspect: both,
  importImage: both,
  loadImages: both,
  saveImages: both,
  pull: both,
  push: both,
  login: both,
  logout: both,
  buildHistory: both,
  diskUsage: both,
  prune: both,
  check: both,
  repair: both,
};

test('every Client method mirrors an Engine method (checked by tsc)', () => {
  expect(Object.keys(checks)).toHaveLength(21);
});
