#!/usr/bin/env node
/**
 * `tsbuildd`: the gRPC build daemon (proto/control.proto). Not built yet: the CLI runs the same
 * engine embedded (src/client/embedded.ts) until the daemon lands.
 */
process.stderr.write('tsbuildd: the build daemon is not implemented yet; use `tsbuild build`, which runs the engine in-process\n');
process.exitCode = 1;
