#!/usr/bin/env node
/** `tsbuildd`: the gRPC build daemon (proto/control.proto, docs/grpc.md). Wiring only. */
import { runDaemon } from './daemon/main.js';

const code = await runDaemon(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
process.exitCode = code;
// Nothing should keep the process alive after a stop; if a library left a handle, do not hang.
setTimeout(() => process.exit(code), 2000).unref();
