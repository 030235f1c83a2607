/**
 * Shortcuts taken by parse + convert for the usual inputs, each held to the general code it skips:
 * a URL's file name without a URL object, a context path made absolute without a normalisation,
 * digests sorted in buckets, a heredoc summary without splitting the body, the definition's
 * source text without joining the lines again, an op input written in one go.
 */
import { describe, expect, test } from '@jest/globals';
import { posix } from 'node:path';
import { httpFilename } from '../../../src/frontend/dockerfile/convert/remote-source.js';
import { joinRoot } from '../../../src/llb/state-meta.js';
import { sortHexDigests } from '../../../src/llb/marshal.js';
import { sha256Hex } from '../../../src/llb/digest.js';
import { FileActions } from '../../../src/llb/file-actions.js';
import { State } from '../../../src/llb/state.js';
import { uppercaseCmd } from '../../../src/frontend/dockerfile/convert/dispatch-context.js';
import { joinedLines } from '../../../src/frontend/dockerfile/file-parser.js';
import { parseDockerfile } from '../../../src/frontend/dockerfile/parse.js';
import { writeInputFieldSha256 } from '../../../src/llb/op-encoding.js';
import { LEN } from '../../../src/llb/proto-wire-writer.js';
import { ProtoWriter } from '../../../src/llb/proto-writer.js';
import { byName, convert } from './helpers.js';

/** A small deterministic generator (tests must not depend on Math.random's sequence). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomWord(next: () => number, chars: string, max: number): string {
  let out = '';
  const n = 1 + Math.floor(next() * max);
  for (let i = 0; i < n; i++) out += chars[Math.floor(next() * chars.length)] as string;
  return out;
}

/** What httpFilename did before its shortcut: the URL parser's path. */
function filenameByUrl(src: string): string {
  try {
    const base = posix.basename(new URL(src).pathname);
    return base === '' || base === '.' || base === '/' ? '__unnamed__' : decodeURIComponent(base);
  } catch {
    return '__unnamed__';
  }
}

describe('fast paths equal the general code', () => {
  test('httpFilename: plain URLs without a URL object, the rest through it', () => {
    const cases = [
      'https://example.com/dl/tool13.tgz', 'http://a', 'http://a/', 'http://a/b/', 'http://a:99999/x', 'http://a:8080/x.tar',
      'http://1.2.3/x', 'http://999999999999/x', 'http://a.b-c.d/x', 'http://-a/x', 'http://a-/x', 'http://xn--abc/x',
      'http://a/./b', 'http://a/b/..', 'http://a/.x', 'http://a/x.', 'http://a/~u/f_1-2.tgz', 'HTTP://a/x', 'http://a/x?y',
      'http://a/%41', 'http://a/b//c', 'http://a/b//', 'https://localhost:0/f', 'http://a.0x1/x', 'http://a.1/x',
      'http://a..b/x', 'http://.a/x', 'http://a./x', 'http://user@a/x', 'http://a/x#y', 'http://a/%2e%2e/x',
    ];
    const next = rng(14);
    for (let i = 0; i < 20_000; i++) cases.push((next() < 0.5 ? 'http://' : 'https://') + randomWord(next, 'aZ09.-_~/:%?#@x', 14));
    for (const c of cases) expect([c, httpFilename(c)]).toEqual([c, filenameByUrl(c)]);
    expect(httpFilename('https://example.com/dl/tool13.tgz')).toBe('tool13.tgz');
  });

  test('joinRoot is posix.join("/", p)', () => {
    const cases = ['', '.', '..', 'a', 'a/', 'a//b', 'a/./b', 'a/../b', './a', '../a', '/a', '/a/', 'a/.hidden', '.env', 'a/b.', 'a/b/.', 'pkg2/', 'README.md'];
    const next = rng(7);
    for (let i = 0; i < 20_000; i++) cases.push(randomWord(next, 'ab./', 8));
    for (const c of cases) expect([c, joinRoot(c)]).toEqual([c, posix.join('/', c)]);
  });

  test('uppercaseCmd upper-cases the keyword (the text before the first space) as before, returning the text when it already is', () => {
    const before = (t: string): string => {
      const i = t.indexOf(' ');
      return i < 0 ? t.toUpperCase() : t.slice(0, i).toUpperCase() + t.slice(i);
    };
    const cases = ['RUN make', 'run make', 'Run  x', 'COPY', 'copy', '', ' lead', 'ß x', 'RUNß x', 'RUN ß', 'A-B_1 x', 'a', 'ǅ y'];
    const next = rng(3);
    for (let i = 0; i < 20_000; i++) cases.push(randomWord(next, 'aZ ß_-1\u00e9\u01c5', 8));
    for (const c of cases) expect([c, uppercaseCmd(c)]).toEqual([c, before(c)]);
    const text = 'RUN make all';
    expect(uppercaseCmd(text)).toBe(text);
  });

  test('sortHexDigests is the default sort, for digests and for anything else', () => {
    const digests = Array.from({ length: 3000 }, (_, i) => sha256Hex(new TextEncoder().encode(String(i))));
    expect(sortHexDigests(digests)).toEqual([...digests].sort());
    expect(sortHexDigests(digests.slice(0, 100))).toEqual(digests.slice(0, 100).sort());
    // Not lower-case hex: the plain sort, whatever the first characters are.
    const odd = [...digests.slice(0, 1000), 'G0', 'A1', ':x', '/y', '0', 'ff'];
    expect(sortHexDigests(odd)).toEqual([...odd].sort());
  });

  test('mkfile data from a string is what TextEncoder makes of it (lone surrogates as U+FFFD)', () => {
    for (const text of ['hello\n', 'a\ud800b', '\udc80', 'x\ud83d\ude00y', 'é€', 'z'.repeat(10_000)]) {
      const def = State.scratch().file(FileActions.mkfile('/f', 0o644, text)).marshal();
      const file = [...def.loaded.vertices.values()].find((v) => v.op.kind === 'file');
      const data = file?.op.kind === 'file' ? file.op.file.actions[0]?.mkfile?.data : undefined;
      expect(Buffer.from(data ?? []).toString('hex')).toBe(Buffer.from(new TextEncoder().encode(text)).toString('hex'));
    }
  });

  test('the source text of a parsed file is its lines joined with \\n (BOM, CRLF, last newlines, none)', async () => {
    const body = 'FROM alpine\nRUN a \\\n  b\n\nCOPY <<EOF /x\nhi\nEOF\n# c';
    const texts = [body, `${body}\n`, `${body}\n\n`, `${body}\n\n\n`, `\ufeff${body}`, `\ufeff${body}\n`,
      body.replaceAll('\n', '\r\n'), `${body}\r\n`, `${body}\r`, 'FROM a', 'FROM a\n', '\ufeffFROM a', '\nFROM a', 'FROM a\nRUN \ud800\n'];
    for (const text of texts) {
      const ast = parseDockerfile(text, { file: 'Dockerfile' });
      expect(joinedLines(ast.lines)).toBe(ast.lines.join('\n'));
      const r = await convert(text);
      const source = r.definition.loaded.sources[0]?.data;
      expect(Buffer.from(source ?? []).toString('hex')).toBe(Buffer.from(ast.lines.join('\n')).toString('hex'));
    }
    expect(joinedLines(['a', 'b'])).toBe('a\nb');
  });

  test('an op input is written as tag, fork, the digest and index fields and ldelim write it', () => {
    const hex = sha256Hex(new Uint8Array([1, 2, 3]));
    for (const index of [0, 1, 2, 63, 64, 127, 128, 300, 2 ** 31 - 1, -1, -(2 ** 31)]) {
      const w = new ProtoWriter(16);
      w.uint32(7);
      writeInputFieldSha256(w, hex, index);
      const ref = new ProtoWriter(16);
      ref.uint32(7);
      ref.tag(1, LEN);
      const at = ref.fork();
      ref.stringField(1, `sha256:${hex}`);
      ref.int32Field(2, index);
      ref.ldelim(at);
      expect(Buffer.from(w.finish()).toString('hex')).toBe(Buffer.from(ref.finish()).toString('hex'));
    }
  });

  test('a RUN heredoc is summarised by its first line, "..." when there are more (CRLF bodies too)', async () => {
    const r = await convert('FROM alpine\nRUN <<EOF\n  echo one\r\n echo two\nEOF\nRUN <<EOF\necho alone\nEOF\nRUN <<EOF\na\r\r\nb\nEOF\n');
    expect(byName(r, 'RUN <<EOF (echo one...)').metadata.description).toBe('[2/4] RUN <<EOF (echo one...)');
    expect(byName(r, 'RUN <<EOF (echo alone)').metadata.description).toBe('[3/4] RUN <<EOF (echo alone)');
    expect(byName(r, 'RUN <<EOF (a\r...)').metadata.description).toBe('[4/4] RUN <<EOF (a\r...)');
  });
});
