/**
 * The client's side of a Solve stream, as the handler reads it: first in order (start, the context
 * listing and file chunks, or the context tar), then — once the build runs — by a pump that routes
 * secret and registry-credential answers to the lookups waiting for them, ssh agent bytes to the
 * build's tunnels (solve-ssh-tunnels.ts), and turns `cancel` into an abort. A stream that ends early fails the waiting lookups; it does not cancel the build (a
 * disconnect cancels the call, which calls.ts turns into an abort). Credential answers are handed
 * on as they are: never logged.
 */
import type { tsbuild } from '../client/gen/control.js';
import { credentialsFromWire } from '../client/grpc-map-registry.js';
import type { RegistryCredentials } from '../client/types.js';
import { CancelledError, TsbuildError } from '../util/errors.js';

type SolveRequest = tsbuild.control.v1.SolveRequest;
type SolveResponse = tsbuild.control.v1.SolveResponse.$Properties;
type SshData = tsbuild.control.v1.SshData.$Properties;

/** What a waiting lookup is resolved with: a secret's bytes (or none), or a host's credentials. */
type Answer = Uint8Array | undefined | RegistryCredentials;

interface Waiter {
  resolve(v: Answer): void;
  reject(e: unknown): void;
}

export class SolveInbox {
  readonly #it: AsyncIterator<SolveRequest>;
  readonly #onCancel: (reason: string) => void;
  readonly #waiting = new Map<number, Waiter>();
  #nextId = 0;
  #ended = false;
  #onSsh: ((m: SshData) => void) | undefined;

  constructor(requests: AsyncIterable<SolveRequest>, onCancel: (reason: string) => void) {
    this.#it = requests[Symbol.asyncIterator]();
    this.#onCancel = onCancel;
  }

  /**
   * The next message; undefined when the client ended its side. `cancel` aborts and throws. Secret
   * and credential answers and ssh bytes are routed on the way (the build may ask while the
   * context still arrives), never returned.
   */
  async next(): Promise<SolveRequest | undefined> {
    for (;;) {
      if (this.#ended) return undefined;
      const r = await this.#it.next();
      if (r.done) {
        this.#ended = true;
        return undefined;
      }
      if (r.value.cancel) {
        const reason = r.value.cancel.reason || 'the client sent cancel';
        this.#onCancel(reason);
        throw new CancelledError(new Error(reason));
      }
      if (!this.#route(r.value)) return r.value;
    }
  }

  /** Hands an answer to the lookup waiting for it (or ssh bytes to the tunnels); false for other messages. */
  #route(m: SolveRequest): boolean {
    if (m.secret) {
      const w = this.#waiting.get(m.secret.requestId ?? 0);
      this.#waiting.delete(m.secret.requestId ?? 0);
      w?.resolve(m.secret.notFound ? undefined : (m.secret.data ?? new Uint8Array()));
    } else if (m.auth) {
      const w = this.#waiting.get(m.auth.requestId ?? 0);
      this.#waiting.delete(m.auth.requestId ?? 0);
      w?.resolve(m.auth.anonymous ? { kind: 'anonymous' } : credentialsFromWire(m.auth));
    } else if (m.ssh) {
      this.#onSsh?.(m.ssh);
    } else {
      return false;
    }
    return true;
  }

  /** Where `ssh` messages go (before this is set they are dropped). */
  onSsh(handler: (m: SshData) => void): void {
    this.#onSsh = handler;
  }

  /** Reads the rest of the stream in the background (once nothing else reads it with next()). */
  pump(): void {
    void (async () => {
      try {
        // next() routes the answers; anything else the client sends now is ignored.
        while (await this.next());
        this.#failWaiting(new TsbuildError('SOLVE_PROTOCOL', 'Solve: the client closed its stream while a secret or credentials were requested'));
      } catch (e) {
        this.#failWaiting(e);
      }
    })();
  }

  /** Asks the client for a secret's value (undefined: it has none). */
  askSecret(secretId: string, post: (m: SolveResponse) => void, signal: AbortSignal): Promise<Uint8Array | undefined> {
    return this.#ask((id) => post({ secret: { id, secretId } }), signal) as Promise<Uint8Array | undefined>;
  }

  /** Asks the client for its credentials for a registry host (anonymous: it has none). */
  askAuth(host: string, post: (m: SolveResponse) => void, signal: AbortSignal): Promise<RegistryCredentials> {
    return this.#ask((id) => post({ auth: { id, host } }), signal) as Promise<RegistryCredentials>;
  }

  #ask(send: (id: number) => void, signal: AbortSignal): Promise<Answer> {
    if (this.#ended) return Promise.reject(new TsbuildError('SOLVE_PROTOCOL', 'Solve: the client closed its stream; secrets and credentials cannot be requested'));
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiting.delete(id);
        reject(new CancelledError(signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.set(id, {
        resolve: (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
        reject: (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
      });
      send(id);
    });
  }

  /**
   * The client that started the build no longer answers (its build went on for attached clients):
   * secret lookups, waiting or new, fail saying so.
   */
  detach(): void {
    this.#ended = true;
    this.#failWaiting(new TsbuildError('SOLVE_CLIENT_DETACHED', 'the client that started the build is gone; its secrets cannot be read any more'));
  }

  /**
   * Fails what still waits. The stream is left to the call (calls.ts ends it with the status; a
   * read still pending then ends with it, call-requests.ts).
   */
  close(): void {
    this.#failWaiting(new CancelledError(new Error('the build ended')));
  }

  #failWaiting(e: unknown): void {
    const all = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const w of all) w.reject(e);
  }
}
