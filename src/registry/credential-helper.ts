/**
 * The docker-credential-helpers protocol: `docker-credential-<name> get|store|erase`, the server
 * URL (get, erase) or a JSON object (store) on stdin, JSON on stdout. A username of `<token>`
 * marks the secret as an identity token.
 */
import { spawn } from 'node:child_process';
import { CancelledError, throwIfAborted } from '../util/errors.js';
import { RegistryError } from './errors.js';
import type { Credentials, SignalOptions } from './types.js';

export interface HelperOptions extends SignalOptions {
  /** Environment (PATH decides which helper runs). Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Kill the helper after this long. Default 30 s (keychain prompts can be slow). */
  readonly timeoutMs?: number;
}

const NOT_FOUND = /credentials not found/i;
const IDENTITY_TOKEN_USER = '<token>';

function run(name: string, action: 'get' | 'store' | 'erase', input: string, opts: HelperOptions): Promise<{ code: number | null; stdout: string; stderr: string }> {
  throwIfAborted(opts.signal);
  const bin = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [action], { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => undefined); // a helper that exits without reading stdin
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const why = e.code === 'ENOENT' ? `${bin} not found in PATH` : `${bin}: ${e.message}`;
      reject(new RegistryError('CREDENTIAL_HELPER', `credential helper ${why}`, { cause: e }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.signal?.aborted) {
        reject(new CancelledError(opts.signal.reason));
        return;
      }
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(input);
  });
}

function failure(name: string, action: string, r: { code: number | null; stdout: string; stderr: string }): RegistryError {
  const msg = (r.stderr.trim() || r.stdout.trim() || `exit code ${r.code}`).split('\n')[0];
  return new RegistryError('CREDENTIAL_HELPER', `credential helper docker-credential-${name} ${action} failed: ${msg}`);
}

/** Credentials for `serverUrl`; anonymous when the helper has none. */
export async function helperGet(name: string, serverUrl: string, opts: HelperOptions = {}): Promise<Credentials> {
  const r = await run(name, 'get', serverUrl, opts);
  if (r.code !== 0) {
    if (NOT_FOUND.test(r.stdout) || NOT_FOUND.test(r.stderr)) return { kind: 'anonymous' };
    throw failure(name, 'get', r);
  }
  let v: unknown;
  try {
    v = JSON.parse(r.stdout);
  } catch {
    throw new RegistryError('CREDENTIAL_HELPER', `credential helper docker-credential-${name} get printed invalid JSON`);
  }
  const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  const username = typeof o['Username'] === 'string' ? o['Username'] : '';
  const secret = typeof o['Secret'] === 'string' ? o['Secret'] : '';
  if (secret === '') return { kind: 'anonymous' };
  if (username === IDENTITY_TOKEN_USER) return { kind: 'identity-token', token: secret };
  return { kind: 'basic', username, password: secret };
}

/** Stores a username/secret pair for `serverUrl`. */
export async function helperStore(name: string, serverUrl: string, username: string, secret: string, opts: HelperOptions = {}): Promise<void> {
  const r = await run(name, 'store', JSON.stringify({ ServerURL: serverUrl, Username: username, Secret: secret }), opts);
  if (r.code !== 0) throw failure(name, 'store', r);
}

/** Removes the credentials for `serverUrl` (none stored is not an error). */
export async function helperErase(name: string, serverUrl: string, opts: HelperOptions = {}): Promise<void> {
  const r = await run(name, 'erase', serverUrl, opts);
  if (r.code !== 0 && !NOT_FOUND.test(r.stdout) && !NOT_FOUND.test(r.stderr)) throw failure(name, 'erase', r);
}
