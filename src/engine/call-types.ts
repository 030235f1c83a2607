/** The engine's per-call options (what cannot be data: signal, listeners, byte sinks, lookups); see src/engine/types.ts. */
import type { ProgressEvent } from '../progress/types.js';
import type { Credentials, TransferEvent } from '../registry/types.js';

export interface CallOptions {
  readonly signal: AbortSignal;
}

/** Looks a build secret up by id, where the client keeps it; undefined when not provided. */
export type SecretLookup = (id: string, signal: AbortSignal) => Promise<Uint8Array | undefined>;

/** Receives the bytes of a `dest=-` output in order; each write resolves once the bytes are taken. */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
}

/** Registry credentials as plain data (the distribution client's own shape). */
export type RegistryCredentials = Credentials;

/** Looks up credentials for a registry host where the caller keeps them (a remote client's docker config). */
export type CredentialLookup = (host: string, signal: AbortSignal) => Promise<RegistryCredentials>;

export interface BuildOptions extends CallOptions {
  readonly onProgress?: (event: ProgressEvent) => void;
  /** The client's hint that it shows progress only for a failed build; the engine calls onProgress for every event regardless. */
  readonly progressOnFailure?: boolean;
  readonly secrets?: SecretLookup;
  readonly stdout?: ByteSink;
  readonly credentials?: CredentialLookup;
}

/** Engine.buildReceiving's options (tsbuildd's builds). */
export interface ReceivingBuildOptions extends BuildOptions {
  /**
   * Settles once the caller has handed the build's result on (tsbuildd: its Solve call is over). The
   * engine's background collection after the build starts only then: its synchronous walks of the
   * store would otherwise hold up the event-loop turns the result's delivery needs (10-17 ms of a
   * one-file change of examples/split, issue 14). Without it the collection starts as the build ends.
   */
  readonly delivered?: Promise<unknown>;
}

export interface InputOptions extends CallOptions {
  /** The bytes of a `-` source (standard input). */
  readonly input?: AsyncIterable<Uint8Array>;
  readonly inputLabel?: string;
}

export interface TransferOptions extends CallOptions {
  readonly onProgress?: (event: TransferEvent) => void;
  readonly credentials?: CredentialLookup;
}

/** How registries are reached; credentials come from the docker config directory. */
export interface RegistryAccess {
  readonly insecureRegistries?: readonly string[];
  readonly caFile?: string;
  readonly dockerConfigDir?: string;
}
