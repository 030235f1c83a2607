/** `tsbuild build`: docker buildx's build command line. */
// Synchronous reads of the context directory and the Dockerfile (a thread-pool round trip each
// would cost more); node:fs/promises through node:fs's lazy `promises` getter (src/util/lazy-builtin.ts).
import { promises as fsp, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Command, CommandContext } from '../cli/command.js';
import { flagBool, flagList, flagString, keyValues } from '../cli/args.js';
import { withClient } from './client.js';
import { TsbuildError, UsageError, UserInputError } from '../../src/util/errors.js';
import { createRenderer, parseProgressMode } from '../../src/progress/index.js';
import { checkAttestationFlags, parseAddHosts, parseAnnotations, parseBuildContexts, parseUlimits, parseCacheExportSpec, parseCacheImportSpec, parseEntitlements, parseOutputSpec } from '../../src/client/build-flags.js';
import { parseSecretFlag, parseSshFlag, secretLookup, type SecretSource } from '../../src/client/secrets.js';
import { REGISTRY_FLAGS, registryAccess } from './registry-flags.js';
import type { DockerfileSource } from '../../src/client/types.js';
import { buildStepCounts, stepMetadata } from '../../src/client/build-metadata.js';
import { byteSink } from './io.js';
import { CacheExpectation } from './expect-cached.js';
import { parseSize } from './human-units.js';

async function readStdin(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks);
}

/** Unpacks a context tarball from stdin into a fresh directory. */
async function contextFromStdin(ctx: CommandContext): Promise<string> {
  await fsp.mkdir(join(ctx.root, 'tmp'), { recursive: true });
  const dir = await fsp.mkdtemp(join(ctx.root, 'tmp', 'context-'));
  // Loaded here: only `tsbuild build -` runs tar, and the module costs every build's start-up.
  const { spawn } = await import('node:child_process');
  const child = spawn('tar', ['-x', '-C', dir, '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  ctx.io.stdin.pipe(child.stdin);
  const code = await new Promise<number>((res, rej) => {
    child.on('error', rej);
    child.on('close', (c) => res(c ?? 1));
  });
  if (code !== 0) {
    await fsp.rm(dir, { recursive: true, force: true });
    throw new UserInputError('CONTEXT_TAR_INVALID', `the build context on standard input is not a valid tar archive: ${err.trim()}`);
  }
  return dir;
}

export const buildCommand: Command = {
  name: 'build',
  summary: 'Build an image from a Dockerfile',
  usage: '[OPTIONS] PATH | -',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'tag', short: 't', kind: 'list', placeholder: 'NAME', description: 'name and optionally a tag (name:tag)' },
    { name: 'file', short: 'f', kind: 'string', placeholder: 'FILE', description: 'the Dockerfile (default PATH/Dockerfile; - for stdin)' },
    { name: 'target', kind: 'string', placeholder: 'STAGE', description: 'the build stage to build' },
    { name: 'build-arg', kind: 'list', placeholder: 'KEY=VALUE', description: 'set a build-time variable' },
    { name: 'no-cache', kind: 'bool', description: 'do not use the cache when building' },
    { name: 'no-cache-filter', kind: 'list', placeholder: 'STAGE', description: 'do not use the cache for this stage' },
    { name: 'progress', kind: 'string', placeholder: 'MODE', default: 'auto', choices: ['auto', 'plain', 'tty', 'rawjson', 'quiet'], description: 'progress output' },
    { name: 'output', short: 'o', kind: 'list', placeholder: 'SPEC', description: 'output destination (type=image|oci|docker|local|tar,dest=...; image and archive layers: compression=gzip|zstd|uncompressed,compression-level=N,force-compression=true)' },
    { name: 'label', kind: 'list', placeholder: 'KEY=VALUE', description: 'set metadata for the image' },
    { name: 'secret', kind: 'list', placeholder: 'id=ID,src=PATH|env=VAR', description: 'secret to expose to RUN --mount=type=secret' },
    { name: 'ssh', kind: 'list', placeholder: 'default|ID[=SOCKET]', description: 'SSH agent socket to expose to RUN --mount=type=ssh' },
    { name: 'build-context', kind: 'list', placeholder: 'NAME=VALUE', description: 'additional build context: a stage or image named NAME is replaced by a directory, docker-image://REF or a Git/HTTP(S) URL' },
    { name: 'ulimit', kind: 'list', placeholder: 'NAME=SOFT[:HARD]', description: 'resource limit of every RUN step (nofile, nproc, core, memlock, stack, …)' },
    { name: 'shm-size', kind: 'string', placeholder: 'SIZE', description: 'size of /dev/shm in every RUN step (default 64MiB)' },
    { name: 'add-host', kind: 'list', placeholder: 'HOST:IP', description: 'add a line to the /etc/hosts of every RUN step (HOST=IP also works)' },
    { name: 'network', kind: 'string', placeholder: 'MODE', default: 'default', choices: ['default', 'none', 'host'], description: "network for RUN instructions (default: private, outbound only, not the host's loopback)" },
    { name: 'platform', kind: 'list', placeholder: 'PLATFORM', description: 'target platform (linux/amd64); several, comma-separated or repeated, build one image index' },
    { name: 'iidfile', kind: 'string', placeholder: 'FILE', description: 'write the image ID (config digest) to the file' },
    { name: 'metadata-file', kind: 'string', placeholder: 'FILE', description: 'write build result metadata (JSON) to the file' },
    { name: 'max-parallelism', kind: 'string', placeholder: 'N', description: 'steps to run at once (default: number of cores)' },
    { name: 'allow', kind: 'list', placeholder: 'ENTITLEMENT', description: 'allow extra privileges: network.host (RUN --network=host), security.insecure (RUN --security=insecure)' },
    { name: 'expect-cached', kind: 'optional-list', placeholder: 'STEP', description: 'fail at the first step that executes instead of coming from the cache (only steps whose instruction contains STEP when given), naming it and why it missed' },
    { name: 'quiet', short: 'q', kind: 'bool', description: 'suppress the progress output and print the image ID on success' },
    { name: 'pull', kind: 'bool', description: 'always resolve base images at their registry (download them when they changed)' },
    { name: 'push', kind: 'bool', description: 'push the image to its registry (same as -o type=image,push=true)' },
    { name: 'provenance', kind: 'optional-list', placeholder: 'false', description: 'buildx\'s provenance attestation: tsbuild attaches none; =false is accepted' },
    { name: 'sbom', kind: 'optional-list', placeholder: 'false', description: 'buildx\'s SBOM attestation: tsbuild attaches none; =false is accepted' },
    { name: 'attest', kind: 'list', placeholder: 'type=…,disabled=true', description: 'buildx\'s attestations: only disabled=true is accepted' },
    { name: 'annotation', kind: 'list', placeholder: '[TYPE:]KEY=VALUE', description: 'OCI annotation of the image outputs (TYPE: manifest (default), index, manifest-descriptor, index-descriptor; manifest[PLATFORM]:KEY=VALUE for one platform)' },
    { name: 'load', kind: 'bool', description: 'store the image in the local image store also when other outputs are given (same as -o type=docker without dest, or -o type=image)' },
    { name: 'cache-to', kind: 'list', placeholder: 'SPEC', description: 'export build cache (type=registry,ref=R[,mode=min|max] | type=local,dest=DIR | type=inline; registry and local layers: compression=gzip|zstd|uncompressed,compression-level=N,force-compression=true)' },
    { name: 'cache-from', kind: 'list', placeholder: 'SPEC', description: 'import build cache (type=registry,ref=R | type=local,src=DIR | R)' },
    ...REGISTRY_FLAGS,
  ],
  details: 'Base images missing from the local store are pulled from their registry (only their manifest and\n'
    + 'config unless the FROM step runs). Imported cache (--cache-from) is read lazily: a layer is downloaded\n'
    + 'only when its step\'s result is used. See docs/remote-cache.md.\n\n'
    + 'Examples:\n  tsbuild build -t layer examples/layer\n  tsbuild build -o type=oci,dest=out.tar .\n  tar -c . | tsbuild build -t app -\n'
    + '  tsbuild build -t reg.lan:5000/app:1 --push --cache-to type=registry,ref=reg.lan:5000/app:cache,mode=max \\\n'
    + '      --cache-from type=registry,ref=reg.lan:5000/app:cache .',
  async run(ctx) {
    const a = ctx.args;
    const contextArg = a.positionals[0] as string;
    const fileArg = flagString(a, 'file');
    if (contextArg === '-' && fileArg === '-') throw new UsageError('build: cannot read both the context and the Dockerfile from standard input');
    // `--platform a,b` and `--platform a --platform b` alike (buildx); several make an image index.
    const platforms = [...new Set(flagList(a, 'platform').flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p !== ''))];
    const platform = platforms.length === 1 ? platforms[0] : undefined;
    const mp = flagString(a, 'max-parallelism');
    const maxParallelism = mp === undefined ? undefined : Number(mp);
    if (maxParallelism !== undefined && (!Number.isInteger(maxParallelism) || maxParallelism < 1)) throw new UsageError(`build: invalid --max-parallelism "${mp}"`);
    const allow = parseEntitlements(flagList(a, 'allow'), '--allow', 'build: ');
    const extraHosts = parseAddHosts(flagList(a, 'add-host'), 'build: ');
    checkAttestationFlags({ provenance: flagList(a, 'provenance'), sbom: flagList(a, 'sbom'), attest: flagList(a, 'attest') }, 'build: ');
    const namedContexts = parseBuildContexts(flagList(a, 'build-context'), ctx.io.cwd, 'build: ');
    const ulimits = parseUlimits(flagList(a, 'ulimit'), 'build: ');
    const shm = flagString(a, 'shm-size');
    const shmSize = shm === undefined ? undefined : parseSize(shm, 'shm-size');
    if (shmSize === 0) throw new UsageError('build: invalid --shm-size "0": the size must be above 0');
    const progressMode = flagBool(a, 'quiet') ? 'quiet' : parseProgressMode(flagString(a, 'progress') ?? 'auto');

    const buildArgs = keyValues(flagList(a, 'build-arg'), 'build-arg', ctx.io.env);
    const sde = ctx.io.env['SOURCE_DATE_EPOCH'];
    if (sde !== undefined && !buildArgs.has('SOURCE_DATE_EPOCH')) buildArgs.set('SOURCE_DATE_EPOCH', sde);
    const secrets = new Map<string, SecretSource>();
    for (const s of flagList(a, 'secret')) {
      const p = parseSecretFlag(s, ctx.io.env);
      secrets.set(p.id, p.source);
    }
    const ssh: Record<string, string> = {};
    for (const s of flagList(a, 'ssh')) {
      const p = parseSshFlag(s, ctx.io.env);
      ssh[p.id] = p.socketPath;
    }
    const outputs = flagList(a, 'output').map(parseOutputSpec);
    // buildx's --load (type=docker without dest): tsbuild's local image store is where it loads.
    if (flagBool(a, 'load') && !outputs.some((o) => o.type === 'image' || (o.type === 'docker' && o.attrs['dest'] === undefined))) outputs.push({ type: 'image', attrs: {} });
    // buildx's --annotation: attributes of every image output (the stored image when none is given).
    const annotations = parseAnnotations(flagList(a, 'annotation'), 'build: ');
    if (Object.keys(annotations).length > 0) {
      if (outputs.length === 0) outputs.push({ type: 'image', attrs: {} });
      for (const [i, o] of outputs.entries()) {
        if (['image', 'oci', 'docker', 'registry'].includes(o.type)) outputs[i] = { type: o.type, attrs: { ...annotations, ...o.attrs } };
      }
    }
    const cacheTo = flagList(a, 'cache-to').map(parseCacheExportSpec);
    const cacheFrom = flagList(a, 'cache-from').map(parseCacheImportSpec);
    const registry = registryAccess(a, ctx);

    let contextDir: string;
    let tempContext: string | undefined;
    if (contextArg === '-') {
      contextDir = tempContext = await contextFromStdin(ctx);
    } else {
      contextDir = resolve(ctx.io.cwd, contextArg);
      let isDir = false;
      try {
        isDir = statSync(contextDir).isDirectory();
      } catch {
        // missing or unreadable: reported as not found
      }
      if (!isDir) throw new UserInputError('CONTEXT_NOT_FOUND', `unable to prepare context: path "${contextArg}" not found`);
    }
    try {
      let dockerfile: DockerfileSource;
      if (fileArg === '-') {
        dockerfile = { content: (await readStdin(ctx.io.stdin)).toString('base64'), name: 'Dockerfile' };
      } else {
        const given = fileArg ?? join(contextArg === '-' ? '.' : contextArg, 'Dockerfile');
        const abs = fileArg === undefined ? join(contextDir, 'Dockerfile') : isAbsolute(fileArg) ? fileArg : resolve(ctx.io.cwd, fileArg);
        let content: Buffer;
        try {
          content = readFileSync(abs);
        } catch {
          throw new UserInputError('DOCKERFILE_NOT_FOUND', `failed to read dockerfile: open ${given}: no such file or directory`);
        }
        dockerfile = { content: content.toString('base64'), name: given, path: abs };
      }
      const renderer = createRenderer(progressMode, { out: process.stderr as NodeJS.WriteStream, env: ctx.io.env });
      const expectFlag = ctx.args.flags.get('expect-cached');
      const buildAc = new AbortController();
      const onAbort = (): void => buildAc.abort(ctx.signal.reason);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      if (ctx.signal.aborted) onAbort();
      // A context from standard input unpacks to a new directory each time; the history names the
      // build by its Dockerfile and tags instead, so earlier builds of it still explain misses.
      const tags = flagList(a, 'tag');
      const historyKey = contextArg === '-' ? `stdin:${fileArg !== undefined && fileArg !== '-' ? (dockerfile.path ?? fileArg) : 'Dockerfile'}:${tags.join(',')}` : undefined;
      const expectation = expectFlag === undefined ? undefined : new CacheExpectation(flagList(a, 'expect-cached'), buildAc);
      const result = await withClient(ctx, maxParallelism !== undefined ? { maxParallelism } : {}, async (client) => {
        try {
          return await client.build(
            {
              contextDir,
              dockerfile,
              buildArgs: Object.fromEntries(buildArgs),
              labels: Object.fromEntries(keyValues(flagList(a, 'label'), 'label', {})),
              noCache: flagBool(a, 'no-cache'),
              noCacheFilter: flagList(a, 'no-cache-filter'),
              network: (flagString(a, 'network') ?? 'default') as 'default' | 'none' | 'host',
              ...(extraHosts.length > 0 ? { extraHosts } : {}),
              ...(Object.keys(namedContexts).length > 0 ? { namedContexts } : {}),
              ...(ulimits.length > 0 ? { ulimits } : {}),
              ...(shmSize !== undefined ? { shmSize } : {}),
              ssh,
              tags,
              outputs,
              allowInsecure: allow.includes('security.insecure'),
              allowNetworkHost: allow.includes('network.host'),
              pull: flagBool(a, 'pull'),
              push: flagBool(a, 'push'),
              cacheTo,
              cacheFrom,
              registry,
              ...(flagString(a, 'target') !== undefined ? { target: flagString(a, 'target') as string } : {}),
              ...(platform !== undefined ? { platform } : {}),
              ...(platforms.length > 1 ? { platforms } : {}),
              ...(historyKey !== undefined ? { historyKey } : {}),
            },
            {
              signal: buildAc.signal,
              onProgress: (e) => {
                renderer.write(e);
                expectation?.observe(e);
              },
              // Quiet shows progress only for a failed build: a daemon need not send it otherwise.
              progressOnFailure: progressMode === 'quiet' && expectation === undefined,
              secrets: secretLookup(secrets, ctx.io.env),
              stdout: byteSink(ctx.io.stdout),
            },
          );
        } catch (e) {
          if (expectation?.violation) throw expectation.error();
          // Every renderer (quiet too) showed the failed step's last log lines between ------ lines.
          if (e instanceof TsbuildError) e.detailShown = true;
          throw e;
        } finally {
          renderer.close();
          ctx.signal.removeEventListener('abort', onAbort);
        }
      });
      const iid = flagString(a, 'iidfile');
      // A multi-platform image is known by its index digest (it has no single config).
      const imageId = result.configDigest ?? (platforms.length > 1 ? result.imageDigest : undefined);
      // Small files in one synchronous call each: a first fs/promises call starts libuv's thread pool,
      // whose start blocks the client until its 4 threads run (1-15 ms; none was started before).
      if (iid !== undefined && imageId) writeFileSync(iid, imageId);
      const meta = flagString(a, 'metadata-file');
      if (meta !== undefined) {
        const s = result.summary;
        writeFileSync(
          meta,
          `${JSON.stringify(
            {
              'containerimage.digest': result.imageDigest,
              'containerimage.config.digest': result.configDigest,
              ...(flagList(a, 'tag').length ? { 'image.name': flagList(a, 'tag').join(',') } : {}),
              'tsbuild.cache': { ...buildStepCounts(result), durationMs: s.durationMs },
              // Every step, and for each one that ran, why the cache could not answer it.
              'tsbuild.steps': stepMetadata(result),
              ...(result.pushed.length ? { 'tsbuild.pushed': result.pushed.map((p) => ({ name: p.name, digest: p.digest })) } : {}),
              ...(cacheTo.length || cacheFrom.length ? { 'tsbuild.remote-cache': result.remoteCache } : {}),
            },
            null,
            2,
          )}\n`,
        );
      }
      if (flagBool(a, 'quiet') && imageId) ctx.io.stdout.write(`${imageId}\n`);
      return 0;
    } finally {
      if (tempContext) await fsp.rm(tempContext, { recursive: true, force: true });
    }
  },
};
