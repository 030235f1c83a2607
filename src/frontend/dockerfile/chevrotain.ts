/**
 * Chevrotain, loaded from its single-file ES bundle. The package's entry point (`lib/src/api.js`)
 * pulls in hundreds of small modules (lodash-es among them) and costs ~0.7 s of start-up on this
 * machine; the bundle it ships (`lib/chevrotain.mjs`, the same code) loads in ~0.1 s. The package's
 * `exports` map hides the bundle, so it is located through the entry point's path. Types still come
 * from the package (`import type … from 'chevrotain'`).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Chevrotain = typeof import('chevrotain');

const entry = createRequire(import.meta.url).resolve('chevrotain');
const bundle = join(dirname(entry), '..', 'chevrotain.mjs');

const chevrotain: Chevrotain = (await import(pathToFileURL(bundle).href)) as Chevrotain;

export const { CstParser, createToken, Lexer, tokenMatcher, generateCstDts } = chevrotain;
