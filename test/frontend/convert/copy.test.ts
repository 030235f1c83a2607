import { describe, expect, test } from '@jest/globals';
import { listAttr, attr, LocalAttr, HttpAttr, GitAttr } from '../../../src/llb/source-attrs.js';
import { byName, convert, fileOf, sourceOf, vertices } from './helpers.js';

function contextAttrs(r: Awaited<ReturnType<typeof convert>>) {
  return sourceOf(byName(r, 'load build context')).attrs;
}

describe('COPY and ADD', () => {
  test('context sources become followpaths (union over stages, relative, sorted); .dockerignore becomes excludes', async () => {
    const r = await convert('FROM alpine AS a\nCOPY src/ /src/\nCOPY go.* ./\nFROM alpine\nCOPY --from=a /src /s\nCOPY ./b.txt Makefile /\nRUN --mount=source=scripts,target=/scripts sh /scripts/x\n', { dockerignore: ['*.md', '!README.md', '.git'] });
    const attrs = contextAttrs(r);
    expect(listAttr(attrs, LocalAttr.followPaths)).toEqual(['Makefile', 'b.txt', 'go.*', 'scripts', 'src']);
    expect(listAttr(attrs, LocalAttr.excludePatterns)).toEqual(['*.md', '!README.md', '.git']);
    expect(attr(attrs, LocalAttr.sharedKeyHint)).toBe('context');
    // all context reads share one source vertex
    expect(vertices(r).filter((v) => v.op.kind === 'source' && sourceOf(v).identifier === 'local://context')).toHaveLength(1);
  });

  test('COPY . uses the whole context: no followpaths', async () => {
    const r = await convert('FROM alpine\nCOPY app.js /\nCOPY . /src\n');
    expect(listAttr(contextAttrs(r), LocalAttr.followPaths)).toEqual([]);
  });

  test('a changed source path changes only that COPY and later steps', async () => {
    const a = await convert('FROM alpine\nCOPY layer1 /data/1\nCOPY layer2 /data/2\n');
    const b = await convert('FROM alpine\nCOPY layer1 /data/1\nCOPY layer3 /data/2\n');
    // The context source differs (followpaths), so every COPY from it differs too; the digest of
    // the COPY of layer1 must therefore be compared through the cache key, which hashes content.
    expect(fileOf(byName(a, 'COPY layer1')).actions[0]?.copy?.src).toBe('/layer1');
    expect(fileOf(byName(b, 'COPY layer3')).actions[0]?.copy?.src).toBe('/layer3');
    expect(byName(a, 'FROM').digest).toBe(byName(b, 'FROM').digest);
  });

  test('copy options like BuildKit: dest relative to WORKDIR, chown, chmod, exclude, wildcards', async () => {
    const r = await convert('FROM alpine\nWORKDIR /app\nCOPY --chown=1000:app --chmod=0640 --exclude=*.tmp conf/*.yml ./etc/\nCOPY --chmod=u=rwX,go=rX bin .\n');
    const c = fileOf(byName(r, 'conf/*.yml')).actions[0]?.copy;
    expect(c).toMatchObject({
      src: '/conf/*.yml', dest: '/app/etc/', mode: 0o640, modeStr: '', followSymlink: true, dirCopyContents: true,
      createDestPath: true, allowWildcard: true, allowEmptyWildcard: true, attemptUnpackDockerCompatibility: false, excludePatterns: ['*.tmp'],
    });
    expect(c?.owner?.user?.byId).toBe(1000);
    expect(c?.owner?.group?.byName).toMatchObject({ name: 'app', input: 0 });
    const s = fileOf(byName(r, 'COPY --chmod=u=rwX')).actions[0]?.copy;
    expect(s).toMatchObject({ dest: '/app/', mode: -1, modeStr: 'u=rwX,go=rX' });
  });

  test('several sources are one file op with chained actions', async () => {
    const r = await convert('FROM alpine\nCOPY a b c /dst/\n');
    const f = fileOf(byName(r, 'COPY a b c'));
    expect(f.actions.map((a) => [a.input, a.secondaryInput, a.output, a.copy?.src])).toEqual([[0, 1, -1, '/a'], [2, 1, -1, '/b'], [3, 1, 0, '/c']]);
  });

  test('variables are expanded in sources, dest, --chown and --chmod', async () => {
    const r = await convert('FROM alpine\nENV D=/opt U=www M=755\nCOPY ${D}/x $D/ --chown=$U\n'.replace(' --chown=$U', '') + 'COPY --chown=$U --chmod=$M f $D/f\n');
    const c = fileOf(byName(r, 'COPY --chown=www')).actions[0]?.copy;
    expect(c).toMatchObject({ src: '/f', dest: '/opt/f', mode: 0o755 });
    expect(c?.owner?.user?.byName?.name).toBe('www');
    expect(r.image.history?.map((h) => h.created_by)).toContain('COPY --chown=www --chmod=755 f /opt/f # buildkit');
  });

  test('COPY --link: the copy lands on scratch and is merged on top (MergeOp)', async () => {
    const r = await convert('FROM alpine\nRUN echo base\nCOPY --link app /app\n');
    const merge = byName(r, 'LINK COPY');
    expect(merge.op.kind).toBe('merge');
    expect(merge.metadata.description).toBe('[3/3] LINK COPY --link app /app');
    const copy = byName(r, '[3/3] COPY --link');
    const f = fileOf(copy);
    expect(f.actions[0]?.input).toBe(-1); // on scratch
    expect(merge.inputs.map((i) => i.digest)).toEqual([byName(r, 'RUN echo base').digest, copy.digest]);
    expect(r.definition.loaded.root?.digest).toBe(merge.digest);
    // the copy does not depend on the layers below: same digest on another base
    const other = await convert('FROM busybox\nCOPY --link app /app\n');
    expect(byName(other, 'COPY --link').digest).toBe(copy.digest);
  });

  test('ADD of a URL: http source with filename and checksum, not unpacked; COPY-from-URL rejected', async () => {
    const sum = 'sha256:' + 'ab'.repeat(32);
    const r = await convert(`FROM alpine\nADD --checksum=${sum} https://example.com/dl/tool.tar.gz /opt/\nADD https://example.com/ /idx\n`);
    const src = sourceOf(byName(r, 'ADD --checksum'));
    const http = vertices(r).find((v) => v.op.kind === 'source' && sourceOf(v).identifier === 'https://example.com/dl/tool.tar.gz');
    expect(http).toBeDefined();
    expect(src).toBeDefined();
    const attrs = http ? sourceOf(http).attrs : [];
    expect(attr(attrs, HttpAttr.checksum)).toBe(sum);
    expect(attr(attrs, HttpAttr.filename)).toBe('tool.tar.gz');
    const copy = fileOf(vertices(r).find((v) => v.op.kind === 'file' && v.metadata.description.includes('tool')) as never).actions[0]?.copy;
    expect(copy).toMatchObject({ src: '/tool.tar.gz', dest: '/opt/', attemptUnpackDockerCompatibility: false });
    const unnamed = vertices(r).find((v) => v.op.kind === 'source' && sourceOf(v).identifier === 'https://example.com/');
    expect(attr(unnamed ? sourceOf(unnamed).attrs : [], HttpAttr.filename)).toBe('__unnamed__');
  });

  test('ADD of a local archive unpacks unless --unpack=false', async () => {
    const r = await convert('FROM alpine\nADD a.tar /x/\nADD --unpack=false b.tar /y/\n');
    expect(fileOf(byName(r, 'ADD a.tar')).actions[0]?.copy).toMatchObject({ attemptUnpackDockerCompatibility: true, unpackSet: false });
    expect(fileOf(byName(r, 'ADD --unpack=false')).actions[0]?.copy).toMatchObject({ attemptUnpackDockerCompatibility: false, unpackSet: true, unpack: false });
  });

  test('ADD of a git repository: git source with ref, subdir, keep-git-dir', async () => {
    const r = await convert('FROM alpine\nADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.12.0:frontend /src\n');
    const git = vertices(r).find((v) => v.op.kind === 'source' && sourceOf(v).identifier.startsWith('git://'));
    if (!git) throw new Error('no git source');
    const s = sourceOf(git);
    expect(s.identifier).toBe('git://github.com/moby/buildkit.git');
    expect(attr(s.attrs, GitAttr.fullUrl)).toBe('https://github.com/moby/buildkit.git');
    expect(attr(s.attrs, GitAttr.ref)).toBe('v0.12.0');
    expect(attr(s.attrs, GitAttr.subdir)).toBe('frontend');
    expect(attr(s.attrs, GitAttr.keepGitDir)).toBe('true');
    expect(fileOf(vertices(r).find((v) => v.op.kind === 'file') as never).actions[0]?.copy).toMatchObject({ src: '/', dest: '/src' });
    // git sources are not context paths
    expect(vertices(r).some((v) => v.metadata.description === '[internal] load build context')).toBe(false);
  });

  test('heredoc sources become mkfile ops on scratch; unquoted delimiters expand', async () => {
    const r = await convert('FROM alpine\nENV NAME=world\nCOPY <<EOF <<"RAW" /etc/\nhello $NAME\nEOF\nkeep $NAME\nRAW\n');
    const docs = vertices(r).filter((v) => v.metadata.description === '[internal] preparing inline document');
    const text = docs.map((d) => Buffer.from(fileOf(d).actions[0]?.mkfile?.data ?? []).toString());
    expect(text.sort()).toEqual(['hello world\n', 'keep $NAME\n']);
    expect(docs.map((d) => fileOf(d).actions[0]?.mkfile?.path).sort()).toEqual(['/EOF', '/RAW']);
    expect(fileOf(byName(r, 'COPY <<EOF')).actions.map((a) => [a.copy?.src, a.copy?.dest])).toEqual([['/EOF', '/etc/'], ['/RAW', '/etc/']]);
    expect(r.image.history?.map((h) => h.created_by)).toContain('COPY <<EOF <<RAW /etc/ # buildkit');
  });

  test('COPY --parents keeps the path below the /./ pivot', async () => {
    const r = await convert('FROM alpine\nCOPY --parents ./src/./pkg/a.go web/*.js /out/\n');
    const acts = fileOf(byName(r, 'COPY --parents')).actions;
    expect(acts[0]?.copy).toMatchObject({ src: '/src', includePatterns: ['pkg/a.go'], requiredPaths: ['/src/pkg/a.go'], parents: true });
    expect(acts[1]?.copy).toMatchObject({ src: '/', includePatterns: ['web/*.js'], requiredPaths: [], parents: true });
    expect(r.image.history?.[0]?.created_by).toBe('COPY --parents ./src/./pkg/a.go web/*.js /out/ # buildkit');
  });
});
