/**
 * FileOp (COPY, ADD, WORKDIR's mkdir, heredoc files): the actions leading to the op's output run in
 * order on one writable snapshot prepared on the base input; copy sources are read from views of
 * their inputs (or the context directory). Cache keys read only the content of the copied paths.
 */
import type { LLBVertex, PbFileAction, PbFileOp } from '../../llb/types.js';
import type { CacheMap, CacheMapDep, Op, OpContext, Result } from '../../solver/types.js';
import { UserInputError, type SourceLocation } from '../../util/errors.js';
import { opCacheDigest } from '../../llb/cache-digest.js';
import { fromLlbFileAction, runFileAction } from '../fileop/file-action.js';
import type { tsbuild } from '../../llb/gen/llb.js';
import { selectedContentDigest, type SelectorSpec } from './content-digest.js';
import { snapshotOf, targetOf, type ResultTarget } from './worker-result.js';
import { fileReadReporter, layerResult, openReadRoot, type OpDeps, type ReadRoot } from './context.js';
import { directCopyPlan, ManifestWriter, readManifest, reuseFrom, type DirectCopyPlan } from './incremental-copy.js';
import { dropUnusedAncestors, makeAncestors } from './copy-ancestors.js';
import { timestampSeconds } from '../fileop/timestamp.js';
import { writeLinkedFrom } from '../diff/tar-index.js';
import { isDirectoryInChain, soleMkdirPath } from './mkdir-existing.js';

const ROOT_OWNER = { uid: 0, gid: 0 } as const;

/** The actions that produce output 0, base first, and the op input they start from (-1: scratch). */
function outputChain(file: PbFileOp, inputCount: number): { base: number; chain: PbFileAction[] } {
  const actions = file.actions;
  const outs = actions.filter((a) => a.output >= 0);
  if (outs.length !== 1) throw new UserInputError('UNSUPPORTED_FILE_OUTPUTS', `file op with ${outs.length} outputs is not supported`);
  const chain: PbFileAction[] = [];
  let cur: PbFileAction | undefined = outs[0];
  let base = -1;
  const seen = new Set<PbFileAction>();
  while (cur) {
    if (seen.has(cur)) throw new Error('file op actions form a cycle');
    seen.add(cur);
    chain.unshift(cur);
    if (cur.input >= inputCount) {
      cur = actions[cur.input - inputCount];
      if (!cur) throw new Error('file action refers to a missing action');
    } else {
      base = cur.input;
      cur = undefined;
    }
  }
  return { base, chain };
}

function ownerInputs(a: PbFileAction): number[] {
  const owner = a.copy?.owner ?? a.mkdir?.owner ?? a.mkfile?.owner ?? a.symlink?.owner;
  const out: number[] = [];
  for (const u of [owner?.user, owner?.group]) {
    const n = u?.byName;
    if (n && n.name) out.push(n.input);
  }
  return out;
}

export class FileOpImpl implements Op {
  readonly #v: LLBVertex;
  readonly #file: PbFileOp;
  readonly #deps: OpDeps;
  readonly #location: SourceLocation | undefined;
  /** Context fingerprints by path, per input, as the cache key read them (for incremental COPY). */
  readonly #fingerprints = new Map<number, Map<string, string>>();

  constructor(v: LLBVertex, file: PbFileOp, deps: OpDeps, location: SourceLocation | undefined) {
    this.#v = v;
    this.#file = file;
    this.#deps = deps;
    this.#location = location;
  }

  async cacheMap(): Promise<CacheMap> {
    const n = this.#v.inputs.length;
    const { base, chain } = outputChain(this.#file, n);
    const byKey = new Set<number>([base]);
    const selectors = new Map<number, SelectorSpec[]>();
    for (const a of chain) {
      for (const i of ownerInputs(a)) byKey.add(i);
      const c = a.copy;
      if (c && a.secondaryInput >= 0 && a.secondaryInput < n) {
        const list = selectors.get(a.secondaryInput) ?? [];
        list.push({ path: c.src || '/', wildcard: c.allowWildcard, allowEmpty: c.allowEmptyWildcard, followLinks: c.followSymlink });
        selectors.set(a.secondaryInput, list);
      }
    }
    const deps: CacheMapDep[] = this.#v.inputs.map((_, i) => {
      const sels = selectors.get(i);
      if (!sels || byKey.has(i)) return {};
      const report = fileReadReporter(this.#deps, this.#v.digest).onEntry;
      return {
        selector: sels.map((s) => s.path).join(','),
        computeDigest: (r: Result, c: OpContext) => {
          const seen = new Map<string, string>();
          this.#fingerprints.set(i, seen);
          return selectedContentDigest(this.#deps, r, sels, {
            signal: c.signal,
            ...(this.#location ? { location: this.#location } : {}),
            onEntry: (path, fingerprint, size) => {
              seen.set(path, fingerprint);
              report?.(path, fingerprint, size);
            },
          });
        },
      };
    });
    return { digest: opCacheDigest(this.#v), deps };
  }

  async exec(ctx: OpContext, inputs: readonly Result[]): Promise<Result[]> {
    const s = this.#deps.services;
    const signal = ctx.signal;
    const { base, chain } = outputChain(this.#file, inputs.length);
    const baseInput = base >= 0 ? inputs[base] : undefined;
    const parent = baseInput ? snapshotOf(baseInput, 'file operation') : undefined;
    const first = chain[0];
    const from = first?.copy && first.secondaryInput < inputs.length ? inputs[first.secondaryInput] : undefined;
    const fromTarget = from ? targetOf(from) : undefined;
    const plan = first && fromTarget?.kind === 'local' ? await directCopyPlan(chain, { snapshots: s.snapshotter, parent, sourceIsContext: true }) : undefined;
    if (first && fromTarget?.kind === 'local' && plan) {
      const direct = await this.#directCopy(ctx, first, fromTarget, parent, plan);
      if (direct) return [direct];
    }
    const existing = parent !== undefined ? soleMkdirPath(chain) : undefined;
    if (parent !== undefined && existing !== undefined && (await isDirectoryInChain(s.snapshotter, parent, existing))) {
      return [await this.#unchanged(ctx, parent)];
    }
    const active = await s.snapshotter.prepare({ signal, ...(parent ? { parent } : {}) });
    const roots = new Map<number, ReadRoot>();
    let committed = false;
    try {
      await s.snapshotter.withMount(
        active,
        async (dest) => {
          const rootFor = async (i: number): Promise<string> => {
            if (i === base) return dest;
            const r = inputs[i];
            if (!r) throw new Error(`file action refers to input ${i}, which the op does not have`);
            let rr = roots.get(i);
            if (!rr) {
              rr = await openReadRoot(this.#deps, r, signal);
              roots.set(i, rr);
            }
            return rr.path;
          };
          for (const a of chain) {
            const action = fromLlbFileAction(a as unknown as tsbuild.llb.FileAction.$Properties);
            let srcRoot: string | undefined;
            let srcExcludes: readonly string[] | undefined;
            let defaultOwner: { uid: number; gid: number } | undefined;
            if (a.copy) {
              if (a.secondaryInput >= inputs.length) throw new UserInputError('UNSUPPORTED_FILE_ACTION', 'copy from the result of another action of the same op is not supported');
              srcRoot = await rootFor(a.secondaryInput);
              const src = inputs[a.secondaryInput];
              const t = src ? targetOf(src) : undefined;
              if (t?.kind === 'local') {
                // The context as the build sees it: .dockerignore'd files do not exist, and files
                // belong to root unless --chown says otherwise (Docker's rule for context files).
                srcExcludes = t.excludes;
                defaultOwner = ROOT_OWNER;
              }
            }
            const owners = ownerInputs(a);
            const ownerRoot = owners.length ? await rootFor(owners[0] as number) : dest;
            await runFileAction(action, {
              destRoot: dest,
              ownerRoot,
              tmpDir: s.tmpDir,
              signal,
              ...(srcRoot !== undefined ? { srcRoot } : {}),
              ...(srcExcludes?.length ? { srcExcludes } : {}),
              ...(defaultOwner ? { defaultOwner } : {}),
              ...(this.#location ? { location: this.#location } : {}),
            });
          }
        },
        { signal },
      );
      for (const r of roots.values()) await r.release();
      roots.clear();
      await s.snapshotter.commit(active, { signal });
      committed = true;
      return [await layerResult(this.#deps, ctx, active.id, parent)];
    } finally {
      for (const r of roots.values()) await r.release().catch(() => undefined);
      if (!committed) await s.snapshotter.remove(active.id).catch(() => undefined);
    }
  }

  /** The step's empty layer on `parent`, made without mounting (mkdir-existing.ts says when). */
  async #unchanged(ctx: OpContext, parent: string): Promise<Result> {
    const s = this.#deps.services;
    const active = await s.snapshotter.prepare({ signal: ctx.signal, parent });
    let committed = false;
    try {
      await s.snapshotter.commit(active, { signal: ctx.signal });
      committed = true;
      return await layerResult(this.#deps, ctx, active.id, parent);
    } finally {
      if (!committed) await s.snapshotter.remove(active.id).catch(() => undefined);
    }
  }

  /**
   * The op's one copy from the context, written straight into the new snapshot's diff/ (see
   * incremental-copy.ts for when that is exact); with an earlier result of the step, unchanged files
   * are hard-linked from its layer. Undefined (a full copy follows) when the destination's existing
   * ancestors cannot be made in diff/ as copy-up would make them.
   */
  async #directCopy(
    ctx: OpContext,
    a: PbFileAction,
    src: Extract<ResultTarget, { kind: 'local' }>,
    parent: string | undefined,
    plan: DirectCopyPlan,
  ): Promise<Result | undefined> {
    const s = this.#deps.services;
    const signal = ctx.signal;
    const copyAction = a.copy;
    if (!copyAction) throw new Error('internal: direct copy of an action that is not a copy');
    const prev = ctx.previous ? targetOf(ctx.previous) : undefined;
    const prevId = prev?.kind === 'snapshot' ? prev.id : undefined;
    const manifest = prevId !== undefined ? await readManifest(s.snapshotter, prevId, s.copyManifests) : undefined;
    const fingerprints = this.#fingerprints.get(a.secondaryInput) ?? new Map<string, string>();
    const active = await s.snapshotter.prepare({ signal, ...(parent ? { parent } : {}) });
    let committed = false;
    try {
      try {
        await makeAncestors(active.upperDir, plan.ancestors, signal);
      } catch (e) {
        if (signal.aborted) throw e;
        return undefined; // e.g. an xattr this filesystem refuses: the overlay path copes or fails as before
      }
      const counts = { linked: 0, copied: 0 };
      const time = timestampSeconds(copyAction) ?? null;
      const out = new ManifestWriter(time);
      const reuse = reuseFrom({
        prevDiff: prevId !== undefined ? s.snapshotter.diffDir(prevId) : undefined, manifest, destRoot: active.upperDir, srcRoot: src.dir,
        fingerprints, time, out, counts, sourceHardlinks: src.linkable !== true,
      });
      await runFileAction(fromLlbFileAction(a as unknown as tsbuild.llb.FileAction.$Properties), {
        destRoot: active.upperDir,
        ownerRoot: active.upperDir,
        tmpDir: s.tmpDir,
        signal,
        srcRoot: src.dir,
        ...(src.excludes.length ? { srcExcludes: src.excludes } : {}),
        defaultOwner: ROOT_OWNER,
        ...(this.#location ? { location: this.#location } : {}),
        reuse,
        ...(src.linkable === true ? { linkSources: true } : {}),
      });
      await dropUnusedAncestors(active.upperDir, plan.ancestors);
      await out.write(s.snapshotter, active.id, s.copyManifests);
      // The layer tar copies linked files' entries from the earlier layer's tar (tar-index.ts).
      if (prevId !== undefined && counts.linked > 0) await writeLinkedFrom(s.snapshotter, active.id, prevId);
      await s.snapshotter.commit(active, { signal });
      committed = true;
      if (manifest) ctx.progress.log(1, `incremental: ${counts.linked} linked, ${counts.copied} copied\n`);
      return await layerResult(this.#deps, ctx, active.id, parent);
    } finally {
      if (!committed) await s.snapshotter.remove(active.id).catch(() => undefined);
    }
  }
}
