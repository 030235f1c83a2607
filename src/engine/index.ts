/**
 * The engine's public entry: the one module outside src/engine may import (the embedded client
 * constructs an Engine here). Everything else in src/engine is the engine's own business.
 */
export { Engine, type EngineOptions } from './engine.js';
export type * from './types.js';
