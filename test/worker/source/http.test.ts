/** The http source against a real HTTP server on 127.0.0.1. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentDispositionFilename, downloadFilename } from '../../../src/worker/source/http-filename.js';
import { fetchHttpSource, parseChecksum, redactUrl } from '../../../src/worker/source/http.js';
import { parseRemoteSourceOp, remoteSourceCacheKey } from '../../../src/worker/source/remote-source-op.js';

const BODY = Buffer.from('#!/bin/sh\necho downloaded\n');
const SHA = createHash('sha256').update(BODY).digest('hex');
const LAST_MODIFIED = 'Wed, 21 Oct 2015 07:28:00 GMT';
const ETAG = '"v1"';
const TAR_GZ = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

let server: Server;
let base: string;
let requests: { url: string; headers: Record<string, string | string[] | undefined> }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    const url = req.url ?? '/';
    if (url === '/dl/tool.sh') {
      if (req.headers['if-none-match'] === ETAG) {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { 'Content-Length': BODY.length, 'Last-Modified': LAST_MODIFIED, ETag: ETAG }).end(BODY);
    } else if (url === '/redirect') {
      res.writeHead(302, { Location: '/dl/tool.sh' }).end();
    } else if (url === '/disposition') {
      res.writeHead(200, { 'Content-Disposition': 'attachment; filename="../../evil name.txt"' }).end('cd');
    } else if (url === '/' || url === '/dir/') {
      res.writeHead(200).end('root');
    } else if (url === '/archive.tar.gz') {
      res.writeHead(200).end(TAR_GZ);
    } else if (url === '/slow') {
      res.writeHead(200, { 'Content-Length': 1 << 20 });
      res.write(Buffer.alloc(1024));
      // never finishes on its own; the test aborts
    } else if (url === '/truncated') {
      res.writeHead(200, { 'Content-Length': 1000 });
      res.write(Buffer.alloc(10));
      res.destroy();
    } else {
      res.writeHead(404, 'Not Found').end('nope');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let dir: string;
let dest: string;
let tmp: string;
beforeEach(() => {
  requests = [];
  dir = mkdtempSync(join(tmpdir(), 'tsbuild-http-'));
  dest = join(dir, 'dest');
  tmp = join(dir, 'tmp');
  mkdirSync(dest);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('http source', () => {
  test('downloads with a streaming sha256, mode 0600, mtime from Last-Modified, validators kept', async () => {
    const res = await fetchHttpSource({ url: `${base}/dl/tool.sh`, destDir: dest, tmpDir: tmp });
    expect(res).toMatchObject({ kind: 'downloaded', digest: `sha256:${SHA}`, size: BODY.length, filename: 'tool.sh', etag: ETAG, lastModified: LAST_MODIFIED });
    const st = lstatSync(join(dest, 'tool.sh'));
    expect(st.mode & 0o7777).toBe(0o600);
    expect(st.mtime.toUTCString()).toBe(LAST_MODIFIED);
    expect(readFileSync(join(dest, 'tool.sh')).equals(BODY)).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
  });

  test('a matching --checksum passes; perm, uid and gid apply', async () => {
    const res = await fetchHttpSource({ url: `${base}/dl/tool.sh`, destDir: dest, tmpDir: tmp, checksum: `sha256:${SHA}`, perm: 0o755, uid: 12, gid: 34 });
    expect(res.kind).toBe('downloaded');
    const st = lstatSync(join(dest, 'tool.sh'));
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o755, 12, 34]);
  });

  test('a checksum mismatch is a clear error and nothing is kept', async () => {
    const wrong = 'sha256:' + '0'.repeat(64);
    await expect(fetchHttpSource({ url: `${base}/dl/tool.sh`, destDir: dest, tmpDir: tmp, checksum: wrong })).rejects.toMatchObject({
      code: 'HTTP_CHECKSUM_MISMATCH',
      message: `checksum mismatch for ${base}/dl/tool.sh: expected ${wrong}, got sha256:${SHA}`,
    });
    expect(readdirSync(dest)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });

  test('sha512 checksums are verified too', async () => {
    const sha512 = createHash('sha512').update(BODY).digest('hex');
    const res = await fetchHttpSource({ url: `${base}/dl/tool.sh`, destDir: dest, tmpDir: tmp, checksum: `sha512:${sha512}` });
    expect(res.kind).toBe('downloaded');
  });

  test('a malformed checksum is rejected before any request', async () => {
    await expect(fetchHttpSource({ url: `${base}/dl/tool.sh`, destDir: dest, tmpDir: tmp, checksum: 'md5:abc' })).rejects.toMatchObject({ code: 'HTTP_BAD_CHECKSUM' });
    expect(requests).toEqual([]);
  });

  test('an error status names the URL and status', async () => {
    await expect(fetchHttpSource({ url: `${base}/missing`, destDir: dest, tmpDir: tmp })).rejects.toMatchObject({
      code: 'HTTP_BAD_STATUS',
      message: `failed to fetch ${base}/missing: invalid response status 404 Not Found`,
    });
  });

  test('redirects are followed; the name comes from the URL that was asked for', async () => {
    const res = await fetchHttpSource({ url: `${base}/redirect`, destDir: dest, tmpDir: tmp });
    expect(res).toMatchObject({ kind: 'downloaded', filename: 'redirect', digest: `sha256:${SHA}` });
  });

  test('Content-Disposition names the file, reduced to one safe segment', async () => {
    const res = await fetchHttpSource({ url: `${base}/disposition`, destDir: dest, tmpDir: tmp });
    expect(res).toMatchObject({ filename: 'evil name.txt' });
    expect(readdirSync(dest)).toEqual(['evil name.txt']);
  });

  test('an explicit filename wins; a bare host URL is "index"', async () => {
    await fetchHttpSource({ url: `${base}/dl/tool.sh`, destDir: dest, tmpDir: tmp, filename: 'renamed' });
    await fetchHttpSource({ url: `${base}/`, destDir: dest, tmpDir: tmp });
    expect(readdirSync(dest).sort()).toEqual(['index', 'renamed']);
  });

  test('archives are not unpacked', async () => {
    await fetchHttpSource({ url: `${base}/archive.tar.gz`, destDir: dest, tmpDir: tmp });
    expect(readFileSync(join(dest, 'archive.tar.gz')).equals(TAR_GZ)).toBe(true);
  });

  test('a conditional request answered 304 returns the previous digest without writing', async () => {
    const res = await fetchHttpSource({ url: `${base}/dl/tool.sh`, destDir: dest, tmpDir: tmp, previous: { etag: ETAG, digest: 'sha256:prev' } });
    expect(res).toEqual({ kind: 'not-modified', digest: 'sha256:prev' });
    expect(requests[0]?.headers['if-none-match']).toBe(ETAG);
    expect(readdirSync(dest)).toEqual([]);
  });

  test('abort stops a transfer that would never end, leaving nothing', async () => {
    const ac = new AbortController();
    const p = fetchHttpSource({ url: `${base}/slow`, destDir: dest, tmpDir: tmp, signal: ac.signal, onProgress: () => ac.abort(new Error('stop')) });
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(readdirSync(dest)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });

  test('a connection cut mid-body is an error, not a short file', async () => {
    await expect(fetchHttpSource({ url: `${base}/truncated`, destDir: dest, tmpDir: tmp })).rejects.toMatchObject({ code: 'HTTP_FETCH_FAILED' });
    expect(readdirSync(dest)).toEqual([]);
  });

  test('an unreachable server is a clear error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(fetchHttpSource({ url: `http://127.0.0.1:${port}/x`, destDir: dest, tmpDir: tmp })).rejects.toMatchObject({ code: 'HTTP_FETCH_FAILED' });
  });
});

describe('http helpers', () => {
  test('file names', () => {
    expect(downloadFilename({ url: 'https://h/a/b/tool.tar.gz?x=1' })).toBe('tool.tar.gz');
    expect(downloadFilename({ url: 'https://h/dir/' })).toBe('dir');
    expect(downloadFilename({ url: 'https://h' })).toBe('index');
    expect(downloadFilename({ url: 'https://h/a%20b' })).toBe('a b');
    expect(contentDispositionFilename("attachment; filename*=UTF-8''na%C3%AFve.txt")).toBe('naïve.txt');
    expect(contentDispositionFilename('inline')).toBeUndefined();
  });

  test('checksums and redaction', () => {
    expect(parseChecksum(`sha256:${SHA}`)).toEqual({ algorithm: 'sha256', hex: SHA });
    expect(() => parseChecksum('sha256:abc')).toThrow(expect.objectContaining({ code: 'HTTP_BAD_CHECKSUM' }));
    expect(redactUrl('https://user:secret@h/x')).toBe('https://xxxxx@h/x');
  });

  test('SourceOp attrs become options; the cache key covers what shapes the file', () => {
    const spec = parseRemoteSourceOp({
      identifier: 'https://h/x.sh',
      attrs: [
        { key: 'http.checksum', value: `sha256:${SHA}` },
        { key: 'http.perm', value: '755' },
        { key: 'http.uid', value: '5' },
      ],
    });
    expect(spec).toEqual({ kind: 'http', url: 'https://h/x.sh', checksum: `sha256:${SHA}`, filename: undefined, perm: 0o755, uid: 5, gid: undefined });
    if (spec?.kind !== 'http') throw new Error('unreachable');
    const k1 = remoteSourceCacheKey(spec, { digest: 'sha256:a' });
    expect(remoteSourceCacheKey(spec, { digest: 'sha256:a' })).toBe(k1);
    expect(remoteSourceCacheKey({ ...spec, perm: 0o644 }, { digest: 'sha256:a' })).not.toBe(k1);
    expect(remoteSourceCacheKey(spec, { digest: 'sha256:b' })).not.toBe(k1);
    expect(parseRemoteSourceOp({ identifier: 'docker-image://alpine' })).toBeUndefined();
  });
});
