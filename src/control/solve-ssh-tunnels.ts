/**
 * SSH agent forwarding for a build over Solve (`--ssh ID[=SOCKET]` on a remote client), the daemon's
 * half: for each ssh id the client offers, a unix socket in the build's scratch that the engine
 * uses as that id's agent (the worker's own proxy binds it into the RUN, as for an embedded build);
 * each connection to it becomes one SshData stream over the Solve call, relayed by the client to its
 * agent (src/client/solve-ssh-relay.ts). Flow control: a connection is not read while its last
 * chunk waits to be sent. Either side's end closes the other; `close` ends every connection and
 * socket (the build is over, or aborted).
 */
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import type { tsbuild } from '../client/gen/control.js';

type SshData = tsbuild.control.v1.SshData.$Properties;
type SolveResponse = tsbuild.control.v1.SolveResponse.$Properties;

interface Tunnel {
  readonly socket: Socket;
  /** The client said its agent connection ended (or failed): no eof goes back. */
  remoteEnded: boolean;
}

export class SshTunnels {
  readonly #send: (m: SolveResponse) => Promise<void>;
  readonly #servers: Server[] = [];
  readonly #paths: string[] = [];
  readonly #tunnels = new Map<number, Tunnel>();
  readonly #missing: { readonly path: string; readonly clientPath: string }[] = [];
  #nextId = 0;
  #closed = false;

  /** `send` queues a message on the call and resolves once it is sent. */
  constructor(send: (m: SolveResponse) => Promise<void>) {
    this.#send = send;
  }

  /**
   * Listens for each id under `dir`; returns the engine's `ssh` map (id → socket path). An id whose
   * agent the client does not have (`missing`: id → its path there) maps to a path nothing listens
   * on, so a RUN mounting it fails as embedded; `rename` gives that error the client's path.
   */
  async listen(ids: readonly string[], dir: string, missing: Readonly<Record<string, string>>): Promise<Record<string, string>> {
    const agents: Record<string, string> = {};
    for (const [i, id] of ids.entries()) {
      const path = join(dir, `ssh-${i}.sock`);
      const clientPath = missing[id];
      if (clientPath !== undefined) {
        this.#missing.push({ path, clientPath });
        agents[id] = path;
        continue;
      }
      const server = createServer((socket) => this.#open(id, socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.#servers.push(server);
      this.#paths.push(path);
      agents[id] = path;
    }
    return agents;
  }

  #open(sshId: string, socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const streamId = ++this.#nextId;
    const t: Tunnel = { socket, remoteEnded: false };
    this.#tunnels.set(streamId, t);
    const fail = (): void => {
      socket.destroy();
    };
    void this.#send({ ssh: { streamId, sshId } }).catch(fail);
    socket.on('data', (chunk: Buffer) => {
      socket.pause();
      this.#send({ ssh: { streamId, data: chunk } }).then(() => socket.resume(), fail);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#tunnels.delete(streamId);
      if (!t.remoteEnded && !this.#closed) void this.#send({ ssh: { streamId, eof: true } }).catch(() => undefined);
    });
  }

  /** `text` naming the client's paths of missing agents instead of the daemon's. */
  rename(text: string): string {
    let out = text;
    for (const m of this.#missing) out = out.replaceAll(m.path, m.clientPath);
    return out;
  }

  /** A message from the client for one of the streams. */
  receive(m: SshData): void {
    const t = this.#tunnels.get(m.streamId ?? 0);
    if (!t) return;
    if (m.data?.length) t.socket.write(m.data);
    if (m.error) {
      t.remoteEnded = true;
      t.socket.destroy();
    } else if (m.eof) {
      t.remoteEnded = true;
      t.socket.end();
    }
  }

  /** Ends every connection, stops listening and removes the sockets. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#tunnels.values()) t.socket.destroy();
    this.#tunnels.clear();
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    await Promise.all(this.#paths.map((p) => rm(p, { force: true })));
  }
}
