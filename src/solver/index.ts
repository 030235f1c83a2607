/** The solver's public surface: what the engine (client/worker wiring) and src/cache import. */
export type * from './types.js';
export type * from './cache-types.js';
export { Solver } from './solver.js';
export { QueueScheduler, type QueueSchedulerOptions } from './scheduler.js';
export { MemoryCacheStore, type MemoryCacheStoreOptions } from './memory-cache-store.js';
export { StepError, InvalidGraphError } from './errors.js';
export { describeMissReason } from './summary.js';
export { computeCacheKey, type KeyPart } from './cache-key.js';
