/**
 * Mutation fuzzing: thousands of damaged Dockerfiles, reproducible from a fixed seed. Each must
 * either parse (and then dump and serialize) or fail with a located UserInputError; any other
 * exception (TypeError, RangeError from a stack overflow, an internal error) fails the test.
 */
import { expect, test } from '@jest/globals';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { haveParserAnchors, parserAnchors } from './anchors.js';
import { partIf } from '../../helpers/skip.js';
import { astToJson } from '../../../src/frontend/dockerfile/ast-json.js';
import { dumpAST, parseDockerfile } from '../../../src/frontend/dockerfile/parse.js';
import { UserInputError } from '../../../src/util/errors.js';
import { mulberry32 as prng } from '../../helpers/prng.js';

const ITERATIONS = 6000;
const SEED = 0x5eed2024;

const builtinSeeds = [
  '# syntax=docker/dockerfile:1\n# escape=`\nFROM a AS b\nRUN x `\n  y\nCOPY --from=b ["/a", "/b"]\n',
  'FROM a\nRUN <<EOF\necho hi\nEOF\nCOPY <<-"X" 3<<Y /dst\n\tbody\n\tX\ny\nY\nONBUILD ADD <<Z /z\nZ\n',
  'FROM a\nENV A=1 B="2 3" C=4\\ 5\nLABEL "k"="v" x=y\nARG V\nHEALTHCHECK --interval=1s CMD ["curl", "-f"]\n',
  'FROM a\nRUN --mount=type=cache,target="/a b" --network=none \\\n  # comment\n\n  make -j4\nSHELL ["/bin/sh", "-c"]\nCMD [1, {"a": [null]}]\n',
  '\ufeff# check=skip=all\nfrom a\nonbuild onbuild run x\nexpose 80 443/udp\nvolume ["/v"]\nstopsignal 9\n',
];

function loadSeeds(): Buffer[] {
  const seeds = builtinSeeds.map((s) => Buffer.from(s));
  if (!partIf(haveParserAnchors, `no BuildKit parser anchors at ${parserAnchors}`, 'fuzz seeds from the BuildKit parser test files')) return seeds;
  for (const kind of ['testfiles', 'testfiles-negative']) {
    for (const name of readdirSync(join(parserAnchors, kind)).sort()) {
      seeds.push(readFileSync(join(parserAnchors, kind, name, 'Dockerfile')));
    }
  }
  const extract = join(parserAnchors, 'go-table-cases', 'heredoc-extract', 'Dockerfile');
  if (existsSync(extract)) seeds.push(readFileSync(extract));
  return seeds;
}

const INSERTS = ['\\', '`', '[', ']', '"', "'", '<<', '<<-', '$', '${', '}', '\n', '\r\n', '\\\n', '`\n', '--', '=', '#', ' ', '\t', '\u00a0', '\ufeff', '["a", 1]', 'ONBUILD ', 'RUN <<EOF\n', 'EOF\n', '# escape=`\n', '\x00', '\xff'];

function mutate(input: Buffer, rnd: () => number, seeds: Buffer[]): Buffer {
  let b = Buffer.from(input);
  const pick = (n: number): number => Math.floor(rnd() * n);
  const rounds = 1 + pick(6);
  for (let r = 0; r < rounds; r++) {
    const at = pick(b.length + 1);
    switch (pick(6)) {
      case 0: // flip bits of one byte
        if (b.length > 0) {
          const i = Math.min(at, b.length - 1);
          b[i] = (b[i] as number) ^ (1 << pick(8));
        }
        break;
      case 1: { // insert a syntactically interesting string
        const ins = Buffer.from(INSERTS[pick(INSERTS.length)] as string, 'latin1');
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        break;
      }
      case 2: // truncate
        b = b.subarray(0, at);
        break;
      case 3: { // splice in a piece of another seed
        const other = seeds[pick(seeds.length)] as Buffer;
        const from = pick(other.length + 1);
        const piece = other.subarray(from, from + pick(200));
        b = Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);
        break;
      }
      case 4: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + pick(20))]);
        break;
      default: // random byte
        b = Buffer.concat([b.subarray(0, at), Buffer.from([pick(256)]), b.subarray(at)]);
    }
  }
  return b;
}

test(`${ITERATIONS} mutated Dockerfiles either parse or fail with a located UserInputError`, () => {
  const rnd = prng(SEED);
  const seeds = loadSeeds();
  let parsed = 0;
  let rejected = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const input = mutate(seeds[i % seeds.length] as Buffer, rnd, seeds);
    try {
      const ast = parseDockerfile(input, { file: 'Dockerfile' });
      const dump = dumpAST(ast);
      JSON.parse(astToJson(ast));
      // Plain checks (not expect) in the hot loop; a violation throws and is reported below.
      if (dump.split('\n').length !== ast.children.length + 1) throw new Error('dump is not one line per instruction');
      for (const c of ast.children) {
        if (!(c.startLine >= 1 && c.endLine >= c.startLine && c.column >= 1)) throw new Error(`bad position ${JSON.stringify(c)}`);
      }
      parsed++;
    } catch (e) {
      if (!(e instanceof UserInputError)) {
        throw new Error(`iteration ${i}: ${String(e)}\ninput (base64): ${input.toString('base64')}`, { cause: e });
      }
      const l = e.location;
      if (e.code !== 'DOCKERFILE_PARSE' || l?.file !== 'Dockerfile' || !(l.line >= 1 && l.column >= 1) || typeof e.sourceLine !== 'string') {
        throw new Error(`iteration ${i}: badly located error ${JSON.stringify({ code: e.code, l, msg: e.message })}\ninput (base64): ${input.toString('base64')}`);
      }
      rejected++;
    }
  }
  process.stderr.write(`fuzz: ${parsed} parsed, ${rejected} rejected\n`);
  // Both outcomes must actually occur, or the mutations are not exercising the parser.
  expect(parsed).toBeGreaterThan(ITERATIONS / 10);
  expect(rejected).toBeGreaterThan(ITERATIONS / 100);
}, 60_000);
