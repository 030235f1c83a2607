/**
 * The child process of bench/build/gzip-pigz.ts: gzips FILE into OUT with tsbuild's layer gzip
 * (src/exporter/gzip-blocks.ts) at LEVEL, and prints `ms=N` — alone in its process, so that the
 * parent's /usr/bin/time measures this compressor's peak RSS and nothing else.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { BlockGzip } from '../../src/exporter/gzip-blocks.js';

const [file, out, level] = process.argv.slice(2);
if (file === undefined || out === undefined || level === undefined) {
  process.stderr.write('usage: gzip-child FILE OUT LEVEL\n');
  process.exit(2);
}
const started = performance.now();
await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), new BlockGzip({ level: Number(level) }), createWriteStream(out));
process.stdout.write(`ms=${Math.round(performance.now() - started)}\n`);
