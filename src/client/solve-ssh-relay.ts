/**
 * SSH agent forwarding over Solve, the client's half (the daemon's: src/control/solve-ssh-tunnels.ts;
 * the protocol: proto/control.proto SshData). The daemon opens a stream per connection a RUN makes
 * to its agent socket; this relay connects each to the local agent of its ssh id (`--ssh default`:
 * $SSH_AUTH_SOCK, `--ssh ID=SOCKET`) and copies bytes both ways. The agent is not read while a
 * chunk of it waits for the call (flow control). Either side's end closes the other; `close` ends
 * every agent connection (the call is over).
 */
// node:fs/promises through node:fs's lazy `promises` getter (util/lazy-builtin.ts).
import { promises as fsp } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { tsbuild } from './gen/control.js';

type SolveRequest = tsbuild.control.v1.SolveRequest.$Properties;
type SshData = tsbuild.control.v1.SshData.$Properties;

/**
 * The ids whose agent socket is not there (the path given is missing or no socket), with that path:
 * the daemon fails a RUN that mounts one as the embedded engine does.
 */
export async function missingAgentSockets(agents: Readonly<Record<string, string>>): Promise<Record<string, string>> {
  const missing: Record<string, string> = {};
  for (const [id, path] of Object.entries(agents)) {
    if (!(await fsp.stat(path).then((s) => s.isSocket(), () => false))) missing[id] = path;
  }
  return missing;
}

interface Stream {
  readonly socket: Socket;
  /** The daemon ended or we reported an error: nothing more goes back. */
  ended: boolean;
}

export class SshRelay {
  readonly #agents: Readonly<Record<string, string>>;
  readonly #write: (m: SolveRequest) => Promise<void>;
  readonly #streams = new Map<number, Stream>();
  #closed = false;

  /** `write` sends one message on the call, resolving when the call takes more. */
  constructor(agents: Readonly<Record<string, string>>, write: (m: SolveRequest) => Promise<void>) {
    this.#agents = agents;
    this.#write = write;
  }

  /** A daemon message: opens a stream (the first naming an ssh id), carries bytes, or ends it. */
  receive(m: SshData): void {
    if (this.#closed) return;
    const streamId = m.streamId ?? 0;
    let s = this.#streams.get(streamId);
    if (!s) {
      if (!m.sshId) return; // a stream this relay already closed
      const path = this.#agents[m.sshId];
      if (path === undefined) {
        void this.#write({ ssh: { streamId, error: `no agent forwarded for ssh id ${JSON.stringify(m.sshId)}` } }).catch(() => undefined);
        return;
      }
      s = this.#connect(streamId, path);
    }
    if (m.data?.length) s.socket.write(m.data);
    if (m.eof || m.error) {
      s.ended = true;
      s.socket.end();
    }
  }

  #connect(streamId: number, path: string): Stream {
    const socket = connect(path);
    const s: Stream = { socket, ended: false };
    this.#streams.set(streamId, s);
    socket.on('data', (chunk: Buffer) => {
      socket.pause();
      this.#write({ ssh: { streamId, data: chunk } }).then(() => socket.resume(), () => socket.destroy());
    });
    socket.on('error', (e: Error) => {
      if (s.ended || this.#closed) return;
      s.ended = true;
      void this.#write({ ssh: { streamId, error: `ssh agent ${path}: ${e.message}` } }).catch(() => undefined);
    });
    socket.on('close', () => {
      this.#streams.delete(streamId);
      if (s.ended || this.#closed) return;
      s.ended = true;
      void this.#write({ ssh: { streamId, eof: true } }).catch(() => undefined);
    });
    return s;
  }

  /** Ends every agent connection. */
  close(): void {
    this.#closed = true;
    for (const s of this.#streams.values()) s.socket.destroy();
    this.#streams.clear();
  }
}
