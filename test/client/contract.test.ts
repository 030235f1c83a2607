/**
 * The client contract suite (client-contract.ts) against every Client there is. The gRPC client
 * plugs in with one more line: a factory that starts tsbuildd on the root and connects to it.
 */
import { EmbeddedClient } from '../../src/client/embedded.js';
import { clientContract } from './client-contract.js';
import { grpcClientOnDaemon } from './grpc-daemon.js';
import { overJsonWire } from './json-wire.js';

clientContract('embedded', (root) => EmbeddedClient.open({ root }));
clientContract('embedded behind a JSON wire', (root) => overJsonWire(new EmbeddedClient({ root })));
clientContract('gRPC client to tsbuildd', grpcClientOnDaemon, { build: false });
