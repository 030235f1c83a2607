/**
 * A stand-in engine process for the killed-engine tests: runs one RUN through a RuncExecutor on
 * the given data root and rootfs, and says so on stdout. The test SIGKILLs it mid-run.
 * Usage: [TSBUILD_TEST_RUNC=runc] node --import swc-register.mjs engine-child.ts ROOT ROOTFS ARG...
 */
import { RuncExecutor } from '../../../src/worker/exec/runc-executor.js';

const [root, rootfs, ...args] = process.argv.slice(2);
if (root === undefined || rootfs === undefined || args.length === 0) throw new Error('usage: engine-child.ts ROOT ROOTFS ARG...');
const runc = process.env.TSBUILD_TEST_RUNC;
const executor = new RuncExecutor({ root, ...(runc !== undefined ? { runcBinary: runc } : {}) });
process.stdout.write('starting\n');
await executor.run({ rootfs, args, env: [], network: 'none', signal: new AbortController().signal });
process.stdout.write('finished\n');
