/**
 * Compares two builders' results: flattened filesystems entry by entry, and image configs field by
 * field plus history. Only the differences docs/compat.md lists as legitimate are normalised away;
 * everything else must match exactly. Failures render as a readable, bounded diff.
 */
import type { ImageConfig } from '../../../src/oci/types.js';
import type { Flattened, FlatFs, FsEntry, ImageArchive } from '../../helpers/fs-flatten.js';

// ---------------------------------------------------------------------------------------------
// Filesystems

export interface FsDifference {
  readonly path: string;
  /** Absent on that side when undefined. */
  readonly a: FsEntry | undefined;
  readonly b: FsEntry | undefined;
  /** Which fields differ (`presence` when one side lacks the path). */
  readonly fields: readonly string[];
}

export interface FsCompareOptions {
  /** Paths left out of the comparison on both sides. */
  readonly ignore?: (path: string) => boolean;
  /**
   * `RUN --mount` targets (and the parents made for them). Docker 20.10 (BuildKit v0.8) leaves the
   * empty mountpoint directories it created in the layer; current BuildKit and tsbuild remove them.
   * An empty directory or empty file present on one side only at such a path is not a difference.
   */
  readonly mountStubs?: ReadonlySet<string>;
  /** Paths whose mtime is compared too (never by default: builders legitimately differ there). */
  readonly compareMtime?: (path: string) => boolean;
}

const octal = (m: number): string => m.toString(8).padStart(4, '0');

function entryFields(a: FsEntry, b: FsEntry, path: string, opts: FsCompareOptions): string[] {
  const out: string[] = [];
  if (a.type !== b.type) return ['type'];
  if (a.mode !== b.mode) out.push('mode');
  if (a.uid !== b.uid) out.push('uid');
  if (a.gid !== b.gid) out.push('gid');
  if (a.type !== 'dir' && a.size !== b.size) out.push('size');
  if (a.sha256 !== b.sha256) out.push('content');
  if (a.linkname !== b.linkname) out.push('linkname');
  if (a.devmajor !== b.devmajor || a.devminor !== b.devminor) out.push('device');
  if (JSON.stringify(sorted(a.xattrs ?? {})) !== JSON.stringify(sorted(b.xattrs ?? {}))) out.push('xattrs');
  if ((a.hardlinks ?? []).join('\n') !== (b.hardlinks ?? []).join('\n')) out.push('hardlinks');
  if (opts.compareMtime?.(path) && a.mtime !== b.mtime) out.push('mtime');
  return out;
}

/** An empty file or a directory holding only such stubs, at a mount-stub path. */
function isEmptyStub(p: string, fs: FlatFs, stubs: ReadonlySet<string> | undefined): boolean {
  if (!stubs?.has(p)) return false;
  const e = fs.get(p);
  if (!e) return false;
  if (e.type === 'file') return e.size === 0;
  if (e.type !== 'dir') return false;
  for (const k of fs.keys()) if (k.startsWith(`${p}/`) && !isEmptyStub(k, fs, stubs)) return false;
  return true;
}

/** Every path whose entries differ (or exist on one side only), sorted by path. */
export function compareFs(a: FlatFs, b: FlatFs, opts: FsCompareOptions = {}): FsDifference[] {
  const paths = [...new Set([...a.keys(), ...b.keys()])].filter((p) => !opts.ignore?.(p)).sort();
  const out: FsDifference[] = [];
  for (const p of paths) {
    const ea = a.get(p);
    const eb = b.get(p);
    if (!ea || !eb) {
      if (!isEmptyStub(p, ea ? a : b, opts.mountStubs)) out.push({ path: p, a: ea, b: eb, fields: ['presence'] });
    }
    else {
      const fields = entryFields(ea, eb, p, opts);
      if (fields.length > 0) out.push({ path: p, a: ea, b: eb, fields });
    }
  }
  return out;
}

/** Targets of every `RUN --mount=…,target=X` in a Dockerfile, with their parent directories. */
export function mountStubPaths(dockerfile: string): Set<string> {
  const out = new Set<string>();
  for (const m of dockerfile.matchAll(/--mount=(\S+)/g)) {
    const t = /(?:^|,)(?:target|dst|destination)=([^,\s]+)/.exec(m[1] ?? '');
    if (!t?.[1]) continue;
    const parts = t[1].split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) out.add(`/${parts.slice(0, i).join('/')}`);
  }
  return out;
}

/** One line: `file 0644 0:0 size=3 sha256=abcdef012345 links=/a,/b`. */
export function describeEntry(e: FsEntry | undefined): string {
  if (!e) return '(absent)';
  let s = `${e.type} ${octal(e.mode)} ${e.uid}:${e.gid}`;
  if (e.type === 'file') s += ` size=${e.size} sha256=${(e.sha256 ?? '').slice(0, 12)}`;
  if (e.linkname !== undefined) s += ` -> ${e.linkname}`;
  if (e.devmajor !== undefined) s += ` dev=${e.devmajor},${e.devminor ?? 0}`;
  if (e.xattrs) s += ` xattrs=${Object.keys(e.xattrs).sort().join(',')}`;
  if (e.hardlinks) s += ` links=${e.hardlinks.join(',')}`;
  return s;
}

export function formatFsDifferences(diffs: readonly FsDifference[], labels: readonly [string, string], limit = 30): string {
  if (diffs.length === 0) return '';
  const w = Math.max(labels[0].length, labels[1].length) + 1;
  const lines = [`${diffs.length} path(s) differ${diffs.length > limit ? ` (first ${limit} shown)` : ''}:`];
  for (const d of diffs.slice(0, limit)) {
    lines.push(`  ${d.path}  [${d.fields.join(', ')}]`);
    lines.push(`    ${`${labels[0]}:`.padEnd(w)} ${describeEntry(d.a)}`);
    lines.push(`    ${`${labels[1]}:`.padEnd(w)} ${describeEntry(d.b)}`);
  }
  return lines.join('\n');
}

function sorted(o: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

// ---------------------------------------------------------------------------------------------
// Image configs and history

/** The `config` fields compared, in report order. */
export const CONFIG_FIELDS = [
  'Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Volumes', 'Labels', 'StopSignal', 'Healthcheck',
  'OnBuild', 'Shell', 'ArgsEscaped',
] as const;

export interface ComparableHistory {
  readonly created_by: string | undefined;
  /** As written: one layer per filesystem step, also when the step changed nothing (Docker does). */
  readonly empty_layer: boolean;
}

/** The parts of an image that must match, normalised as docs/compat.md describes. */
export interface ComparableImage {
  readonly fields: Readonly<Record<string, unknown>>;
  readonly history: readonly ComparableHistory[];
  /** Layers that change something besides directory mtimes (reported, not compared). */
  readonly layers: number;
  /** Layers as the archive has them (compared). */
  readonly rawLayers: number;
  /** Inconsistencies inside this one image (history vs layers). */
  readonly problems: readonly string[];
}

const MAP_FIELDS = new Set(['ExposedPorts', 'Volumes', 'Labels']);

/** null ≡ absent; {} ≡ absent for maps; [] ≡ absent for OnBuild; false/'' ≡ absent; zero Healthcheck durations ≡ absent. */
export function normalizeField(name: string, v: unknown): unknown {
  if (v === null || v === undefined || v === '' || v === false) return undefined;
  if (MAP_FIELDS.has(name) && typeof v === 'object' && Object.keys(v).length === 0) return undefined;
  if (name === 'OnBuild' && Array.isArray(v) && v.length === 0) return undefined;
  if (MAP_FIELDS.has(name) && typeof v === 'object') return sorted(v as Record<string, unknown>);
  if (name === 'Healthcheck' && typeof v === 'object') {
    return sorted(Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== 0 && x !== null && x !== undefined)));
  }
  return v;
}

const COPY_FLAG = /^ --(?:chown|chmod)=\S+| --(?:link|parents)(?:=(?:true|false))?(?= )/;

/**
 * Maps the history wording of different BuildKit versions to one form: COPY/ADD without the
 * --chown/--chmod/--link/--parents flags newer versions print, HEALTHCHECK without the StartInterval
 * newer versions print when it is 0, EXPOSE as the sorted port list (v0.8 prints a Go map), ARG as
 * its names only (v0.8 prints the Dockerfile default, newer versions the value in effect; the values
 * are still compared through the `RUN |n K=V …` entries). ARG values containing spaces would be
 * split into extra names; the cases avoid them.
 */
export function normalizeCreatedBy(s: string): string {
  const arg = /^ARG (.*)$/.exec(s);
  if (arg) return `ARG ${(arg[1] as string).split(' ').filter(Boolean).map((t) => t.split('=')[0] as string).join(' ')}`;
  const copy = /^(COPY|ADD)( .*)$/.exec(s);
  if (copy) {
    let rest = copy[2] as string;
    for (let m = COPY_FLAG.exec(rest); m; m = COPY_FLAG.exec(rest)) rest = rest.slice(m[0].length);
    return `${copy[1] as string}${rest}`;
  }
  const hc = /^HEALTHCHECK &\{(\[.*\]) ("[^"]*") ("[^"]*") ("[^"]*") ("[^"]*") ('.*')\}$/.exec(s);
  if (hc && hc[5] === '"0s"') return `HEALTHCHECK &{${hc[1] as string} ${hc[2] as string} ${hc[3] as string} ${hc[4] as string} ${hc[6] as string}}`;
  const mapForm = /^EXPOSE map\[(.*)\]$/.exec(s);
  const listForm = /^EXPOSE \[(.*)\]$/.exec(s);
  const ports = mapForm ? (mapForm[1] as string).split(' ').map((p) => p.replace(/:\{\}$/, '')) : listForm ? (listForm[1] as string).split(' ') : undefined;
  if (ports) return `EXPOSE [${ports.filter(Boolean).sort().join(' ')}]`;
  return s;
}

/**
 * Extracts the comparable parts of an image. Layers and history are taken as written: Docker keeps
 * a layer (and a non-empty history entry) for every filesystem step, also one that changed nothing,
 * and tsbuild must do the same. `layers` counts only the layers that change something besides
 * directory mtimes (Docker 20.10's RUN leaves `/etc` with a new mtime; see docs/compat.md), for the
 * report.
 */
export function comparableImage(archive: ImageArchive, flat: Flattened): ComparableImage {
  const cfg: ImageConfig = archive.config;
  const fields: Record<string, unknown> = {};
  for (const f of CONFIG_FIELDS) fields[f] = normalizeField(f, (cfg.config as Record<string, unknown> | undefined)?.[f]);
  for (const f of ['author', 'architecture', 'os', 'variant'] as const) fields[f] = normalizeField(f, cfg[f]);
  const problems: string[] = [];
  const history: ComparableHistory[] = [];
  let li = 0;
  for (const h of cfg.history ?? []) {
    const empty = h.empty_layer === true;
    if (!empty && flat.changesByLayer[li++] === undefined) problems.push(`history entry ${JSON.stringify(h.created_by ?? '')} has no layer`);
    // Go's omitempty: an empty created_by is the same as none.
    history.push({ created_by: h.created_by ? normalizeCreatedBy(h.created_by) : undefined, empty_layer: empty });
  }
  if (li < flat.entriesByLayer.length) problems.push(`${flat.entriesByLayer.length} layers but only ${li} non-empty history entries`);
  return { fields, history, layers: flat.changesByLayer.filter((n) => n > 0).length, rawLayers: flat.changesByLayer.length, problems };
}

export interface ConfigDifference {
  readonly field: string;
  readonly a: unknown;
  readonly b: unknown;
}

const same = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);

/** Differences in config fields, layer count (as in the archive) and history (created_by, empty_layer), in report order. */
export function compareImages(a: ComparableImage, b: ComparableImage): ConfigDifference[] {
  const out: ConfigDifference[] = [];
  for (const [i, p] of a.problems.entries()) out.push({ field: `problem[${i}]`, a: p, b: undefined });
  for (const [i, p] of b.problems.entries()) out.push({ field: `problem[${i}]`, a: undefined, b: p });
  for (const f of Object.keys({ ...a.fields, ...b.fields })) if (!same(a.fields[f], b.fields[f])) out.push({ field: f, a: a.fields[f], b: b.fields[f] });
  if (a.rawLayers !== b.rawLayers) out.push({ field: 'layers', a: a.rawLayers, b: b.rawLayers });
  const n = Math.max(a.history.length, b.history.length);
  for (let i = 0; i < n; i++) {
    const ha = a.history[i];
    const hb = b.history[i];
    if (!same(ha, hb)) out.push({ field: `history[${i}]`, a: ha, b: hb });
  }
  return out;
}

export function formatConfigDifferences(diffs: readonly ConfigDifference[], labels: readonly [string, string]): string {
  if (diffs.length === 0) return '';
  const w = Math.max(labels[0].length, labels[1].length) + 1;
  const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));
  const lines = [`${diffs.length} image field(s) differ:`];
  for (const d of diffs) {
    lines.push(`  ${d.field}`);
    lines.push(`    ${`${labels[0]}:`.padEnd(w)} ${show(d.a)}`);
    lines.push(`    ${`${labels[1]}:`.padEnd(w)} ${show(d.b)}`);
  }
  return lines.join('\n');
}
