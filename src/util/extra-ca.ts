/**
 * NODE_EXTRA_CA_CERTS, read when a TLS connection needs it rather than when node starts.
 *
 * With that variable set, Node parses the file and builds its whole root store before any script
 * runs: ~36 ms of every `tsbuild` command on a machine whose environment names Debian's bundle
 * (`/etc/ssl/certs/ca-certificates.crt`), although most commands never open a TLS connection
 * (issue 10's start-up). So the `tsbuild` launcher's first line — a `/bin/sh` line node reads as a
 * comment — moves the variable to TSBUILD_DEFERRED_EXTRA_CA_CERTS before it execs node, and
 * `restoreDeferredExtraCa` (the launcher's first statement) puts it back into `process.env`, so
 * child processes (git, credential helpers) see the environment they were given.
 *
 * This process's default trust store then lacks those certificates. Every TLS client of ours
 * therefore passes an explicit `ca`: `trustedCas()` is Node's bundled roots plus the file named by
 * NODE_EXTRA_CA_CERTS (added whether or not node loaded it, since an explicit `ca` replaces the
 * defaults). A file that cannot be read is ignored with one warning, as Node does.
 */
import { readFileSync } from 'node:fs';
import type * as Tls from 'node:tls';
import { lazyBuiltin } from './lazy-builtin.js';

/** Where the launcher's first line keeps NODE_EXTRA_CA_CERTS (empty when it was not set). */
export const DEFERRED_EXTRA_CA_ENV = 'TSBUILD_DEFERRED_EXTRA_CA_CERTS';

const tls = lazyBuiltin<typeof Tls>('node:tls');

/**
 * Puts NODE_EXTRA_CA_CERTS back into `env` after the launcher's first line moved it. A value set
 * again meanwhile (node then loaded it itself) wins.
 */
export function restoreDeferredExtraCa(env: NodeJS.ProcessEnv = process.env): void {
  const deferred = env[DEFERRED_EXTRA_CA_ENV];
  if (deferred === undefined) return;
  delete env[DEFERRED_EXTRA_CA_ENV];
  if (deferred !== '' && env['NODE_EXTRA_CA_CERTS'] === undefined) env['NODE_EXTRA_CA_CERTS'] = deferred;
}

let extra: { readonly file: string; readonly pems: readonly string[] } | undefined;

/** The PEM text of the file NODE_EXTRA_CA_CERTS names ([] when unset or unreadable: one warning). */
export function extraCas(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  const file = env['NODE_EXTRA_CA_CERTS'];
  if (file === undefined || file === '') return [];
  if (extra?.file === file) return extra.pems;
  let pems: string[] = [];
  try {
    pems = [readFileSync(file, 'utf8')];
  } catch (e) {
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(e as Error).message}`);
  }
  extra = { file, pems };
  return pems;
}

/** Node's bundled root certificates plus NODE_EXTRA_CA_CERTS: the `ca` for a TLS client of ours. */
export function trustedCas(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...tls().rootCertificates, ...extraCas(env)];
}
