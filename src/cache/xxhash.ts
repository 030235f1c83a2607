/** xxHash (xxh64) through xxhash-wasm: the fast, non-cryptographic hash of context files. */
import xxhash from 'xxhash-wasm';
import type { XXHashAPI } from 'xxhash-wasm';

export type Xxh64 = XXHashAPI;

/** Instantiates the wasm module (about a millisecond); keep the result for many hashes. */
export function loadXxh64(): Promise<Xxh64> {
  return xxhash();
}

/** A 64-bit digest as 16 lowercase hex digits. */
export function hex64(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}
