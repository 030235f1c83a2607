/**
 * What the h2 transport tests share: binding a grpc-js server, a unary call on an H2Channel, and
 * the error of a call that must fail.
 */
import type { Server, ServerCredentials } from '@grpc/grpc-js';
import type { H2Channel } from '../../src/client/h2/channel.js';
import type { GrpcStatusError } from '../../src/client/h2/status.js';

export function bind(server: Server, addr: string, creds: ServerCredentials): Promise<number> {
  return new Promise((res, rej) => server.bindAsync(addr, creds, (e, port) => (e ? rej(e) : res(port))));
}

export function unary<Req, Res>(ch: H2Channel, m: { path: string; requestSerialize: (r: Req) => Buffer; responseDeserialize: (b: Buffer) => Res }, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const call = ch.call(m.path, m);
    const got: Res[] = [];
    call.on('data', (r: Res) => got.push(r));
    call.on('error', reject);
    call.on('end', () => (got.length === 1 ? resolve(got[0] as Res) : reject(new Error(`${got.length} answers`))));
    call.end(req);
  });
}

export function failure(p: Promise<unknown>): Promise<GrpcStatusError> {
  return p.then(() => { throw new Error('the call succeeded'); }, (e: unknown) => e as GrpcStatusError);
}
