/**
 * A plain @grpc/grpc-js client for daemon tests: channels to `unix://` and `tcp://` addresses
 * (optionally TLS with a CA and a client certificate, and a bearer token), typed unary and
 * server-streaming calls over the generated method definitions, and a server-reflection call
 * (the reflection protocol is loaded from @grpc/reflection's own .proto with protobufjs).
 */
import { join } from 'node:path';
import { credentials, Client, Metadata } from '@grpc/grpc-js';
import type { ChannelCredentials, ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { GrpcMethod } from '../../src/client/gen/control-grpc.js';
import { repoRoot } from './paths.js';

export interface ClientAuth {
  /** PEM CA to verify the server with (TLS); without it the channel is plaintext. */
  readonly ca?: Buffer;
  /** Client certificate and key (mutual TLS). */
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** Sent as `authorization: Bearer TOKEN`. */
  readonly token?: string;
}

/** The target grpc-js dials for a daemon address. */
export function grpcTarget(address: string): string {
  return address.startsWith('tcp://') ? address.slice('tcp://'.length) : address;
}

function channelCredentials(a: ClientAuth): ChannelCredentials {
  return a.ca ? credentials.createSsl(a.ca, a.key ?? null, a.cert ?? null) : credentials.createInsecure();
}

export interface TestClient {
  readonly client: Client;
  metadata(): Metadata;
  close(): void;
}

export function connect(address: string, auth: ClientAuth = {}): TestClient {
  const client = new Client(grpcTarget(address), channelCredentials(auth), {});
  return {
    client,
    metadata: () => {
      const md = new Metadata();
      if (auth.token !== undefined) md.set('authorization', `Bearer ${auth.token}`);
      return md;
    },
    close: () => client.close(),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMethod<Req, Res> = GrpcMethod<Req, any, any, Res>;

const deadline = (ms: number): Date => new Date(Date.now() + ms);

export function unary<Req, Res>(c: TestClient, m: AnyMethod<Req, Res>, req: Req, timeoutMs = 15_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    c.client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, c.metadata(), { deadline: deadline(timeoutMs) }, (err, res) => {
      if (err) reject(err);
      else resolve(res as Res);
    });
  });
}

/** A server-streaming call: every message, then the end (or the error it ended with). */
export function serverStream<Req, Res>(c: TestClient, m: AnyMethod<Req, Res>, req: Req, onMessage?: (m: Res) => void): Promise<{ messages: Res[]; error: ServiceError | undefined }> {
  return new Promise((resolve) => {
    const call = c.client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, req, c.metadata(), { deadline: deadline(30_000) });
    const messages: Res[] = [];
    call.on('data', (msg: Res) => {
      messages.push(msg);
      onMessage?.(msg);
    });
    call.on('error', (error: ServiceError) => resolve({ messages, error }));
    call.on('end', () => resolve({ messages, error: undefined }));
  });
}

/** The error a call failed with (fails the test when it succeeded). */
export async function callError(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error('the call succeeded; expected it to fail');
}

// ---------------------------------------------------------------------------------------------
// Server reflection (grpc.reflection.v1)

const reflectionRoot = protobuf.loadSync(join(repoRoot, 'node_modules', '@grpc', 'reflection', 'build', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto'));
const ReflectionRequest = reflectionRoot.lookupType('grpc.reflection.v1.ServerReflectionRequest');
const ReflectionResponse = reflectionRoot.lookupType('grpc.reflection.v1.ServerReflectionResponse');

/** One reflection request (`{ listServices: '*' }`, `{ fileContainingSymbol: 'pkg.Svc' }`); the decoded response as a plain object. */
export function reflect(c: TestClient, request: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const call = c.client.makeBidiStreamRequest(
      '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
      (m: object) => Buffer.from(ReflectionRequest.encode(ReflectionRequest.fromObject(m)).finish()),
      (b: Buffer) => ReflectionResponse.toObject(ReflectionResponse.decode(b), { bytes: Buffer, defaults: false }),
      c.metadata(),
      { deadline: deadline(15_000) },
    );
    let got: Record<string, unknown> | undefined;
    call.on('data', (m: Record<string, unknown>) => {
      got = m;
      call.end();
    });
    call.on('error', reject);
    call.on('end', () => (got ? resolve(got) : reject(new Error('reflection stream ended without a response'))));
    call.write(request);
  });
}
