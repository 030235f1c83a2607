/**
 * `RUN --mount=…` values: CSV fields of `key=value` (or bare `ro`/`rw`/`required`), as in BuildKit.
 * Parsed twice: when the instruction is typed (values as written; fields holding `$` are kept but
 * not validated yet) and by the conversion with an expander, when ARG/ENV values are known.
 */
import { didYouMean } from '../../../util/did-you-mean.js';
import type { CacheSharingMode, MountType, RunMount } from './instruction.js';

export class MountSpecError extends Error {
  /** The offending token (for the caret), e.g. the bad key. */
  readonly token: string | undefined;
  readonly unknownType: string | undefined;

  constructor(message: string, opts: { token?: string; unknownType?: string } = {}) {
    super(message);
    this.token = opts.token;
    this.unknownType = opts.unknownType;
  }
}

const MOUNT_TYPES: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: readonly CacheSharingMode[] = ['shared', 'private', 'locked'];
const KEYS = ['type', 'from', 'source', 'src', 'target', 'dst', 'destination', 'readonly', 'ro', 'readwrite', 'rw', 'id', 'sharing', 'required', 'mode', 'uid', 'gid', 'size', 'env'];

/** Splits one CSV record like Go's encoding/csv (quoted fields, `""` escapes). */
export function splitCSV(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new MountSpecError(`extraneous or missing " in quoted-field: ${line}`);
        const c = line[i] as string;
        if (c === '"') {
          if (line[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        field += c;
        i++;
      }
      if (i < line.length && line[i] !== ',') throw new MountSpecError(`extraneous or missing " in quoted-field: ${line}`);
    } else {
      const end = line.indexOf(',', i);
      field = end < 0 ? line.slice(i) : line.slice(i, end);
      if (field.includes('"')) throw new MountSpecError(`bare " in non-quoted field: ${field}`);
      i = end < 0 ? line.length : end;
    }
    out.push(field);
    if (i >= line.length) return out;
    i++; // the comma
  }
}

/** Docker's RAMInBytes: `64m`, `1g`, `512k`, `1.5GiB`, plain bytes. */
export function parseSize(v: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(i?b)?$/i.exec(v.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.floor(Number(m[1]) * (mult[(m[2] ?? '').toLowerCase()] ?? 1));
}

function parseBool(key: string, v: string): boolean {
  const l = v.toLowerCase();
  if (['1', 't', 'true'].includes(l)) return true;
  if (['0', 'f', 'false'].includes(l)) return false;
  throw new MountSpecError(`invalid value for ${key}: ${v}`, { token: `${key}=` });
}

function parseUint(key: string, v: string, radix: 8 | 10): number {
  const ok = radix === 8 ? /^[0-7]+$/.test(v) : /^[0-9]+$/.test(v);
  const n = ok ? Number.parseInt(v, radix) : NaN;
  if (!ok || n > 0xffffffff) throw new MountSpecError(`invalid value ${v} for ${key}`, { token: `${key}=` });
  return n;
}

export interface ParseMountOptions {
  /**
   * Expands variables in a value. When absent (typing time), values containing `$` are kept as
   * written and not validated; `from` never accepts variables.
   */
  readonly expand?: (value: string) => string;
}

interface Draft {
  type: MountType;
  target?: string; source?: string; from?: string; readonly?: boolean; id?: string; sharing?: CacheSharingMode;
  mode?: number; uid?: number; gid?: number; size?: number; required: boolean; env?: string;
  /** Some value awaits expansion: presence checks wait for the second parse. */
  deferred: boolean;
}

export function parseMount(raw: string, opts: ParseMountOptions = {}): RunMount {
  const fields = splitCSV(raw);
  const m: Draft = { type: 'bind', required: false, deferred: false };
  // type= decides which keys are allowed, wherever it is written.
  for (const f of fields) {
    const eq = f.indexOf('=');
    if (eq >= 0 && f.slice(0, eq).toLowerCase() === 'type') {
      const value = opts.expand ? opts.expand(f.slice(eq + 1)) : f.slice(eq + 1);
      if (!opts.expand && value.includes('$')) { m.deferred = true; continue; }
      // The shared constant, not the value's own copy: typed mounts live through the conversion.
      const t = MOUNT_TYPES[MOUNT_TYPES.indexOf(value.toLowerCase() as MountType)];
      if (t === undefined) throw new MountSpecError(`unsupported mount type "${value}"`, { token: f, unknownType: value });
      m.type = t;
    }
  }
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      switch (key) {
        case 'readonly': case 'ro': m.readonly = true; continue;
        case 'readwrite': case 'rw': m.readonly = false; continue;
        case 'required':
          if (m.type !== 'secret' && m.type !== 'ssh') throw new MountSpecError(`unexpected key 'required' for mount type '${m.type}'`, { token: field });
          m.required = true;
          continue;
        default:
          if (KEYS.includes(key)) throw new MountSpecError(`invalid field '${field}' must be a key=value pair`, { token: field });
          throw new MountSpecError(`unexpected key '${key}' in '${field}'${didYouMean(key, KEYS)}`, { token: field });
      }
    }
    let value = field.slice(eq + 1);
    if (key === 'from' && /\$./.test(value)) {
      throw new MountSpecError(`'from' doesn't support variable expansion, define alias stage instead`, { token: field });
    }
    if (opts.expand) value = opts.expand(value);
    else if (value.includes('$') && KEYS.includes(key)) { m.deferred = true; continue; } // validated after expansion
    switch (key) {
      case 'type': break;
      case 'from': m.from = value; break;
      case 'source': case 'src': m.source = value; break;
      case 'target': case 'dst': case 'destination': m.target = value; break;
      case 'readonly': case 'ro': m.readonly = parseBool(key, value); break;
      case 'readwrite': case 'rw': m.readonly = !parseBool(key, value); break;
      case 'required':
        if (m.type !== 'secret' && m.type !== 'ssh') throw new MountSpecError(`unexpected key 'required' for mount type '${m.type}'`, { token: field });
        m.required = parseBool(key, value);
        break;
      case 'size':
        if (m.type !== 'tmpfs') throw new MountSpecError(`unexpected key 'size' for mount type '${m.type}'`, { token: field });
      {
        const size = parseSize(value);
        if (size === undefined) throw new MountSpecError(`invalid value for size: ${value}`, { token: field });
        m.size = size;
        break;
      }
      case 'id': m.id = value; break;
      case 'sharing': {
        const s = SHARING[SHARING.indexOf(value.toLowerCase() as CacheSharingMode)];
        if (s === undefined) throw new MountSpecError(`unsupported sharing value "${value}"${didYouMean(value, SHARING)}`, { token: field });
        m.sharing = s;
        break;
      }
      case 'mode': m.mode = parseUint(key, value, 8); break;
      case 'uid': m.uid = parseUint(key, value, 10); break;
      case 'gid': m.gid = parseUint(key, value, 10); break;
      case 'env':
        if (m.type !== 'secret') throw new MountSpecError(`unexpected key 'env' for mount type '${m.type}'`, { token: field });
        m.env = value;
        break;
      default:
        throw new MountSpecError(`unexpected key '${key}' in '${field}'${didYouMean(key, KEYS)}`, { token: field });
    }
  }
  return validate(m);
}

function validate(m: Draft): RunMount {
  const fileInfo = m.type === 'secret' || m.type === 'ssh' || m.type === 'cache';
  if (!fileInfo) {
    for (const k of ['mode', 'uid', 'gid'] as const) {
      if (m[k] !== undefined) throw new MountSpecError(`${k} not allowed for "${m.type}" type mounts`, { token: `${k}=` });
    }
  }
  if (m.sharing !== undefined && m.type !== 'cache') throw new MountSpecError(`invalid cache sharing set for ${m.type} mount`, { token: 'sharing=' });
  if (m.type === 'secret') {
    if (m.from !== undefined) throw new MountSpecError('secret mount should not have a from', { token: 'from=' });
    if (!m.deferred && m.source === undefined && m.target === undefined && m.id === undefined && m.env === undefined) {
      throw new MountSpecError('invalid secret mount: one of id, source, target or env is required');
    }
    if (m.source !== undefined && m.id !== undefined) throw new MountSpecError("both source and id can't be set for a secret mount", { token: 'source=' });
  }
  if ((m.type === 'ssh' || m.type === 'tmpfs') && m.from !== undefined) {
    throw new MountSpecError(`${m.type} mount should not have a from`, { token: 'from=' });
  }
  if (!m.deferred && (m.type === 'bind' || m.type === 'cache' || m.type === 'tmpfs') && (m.target === undefined || m.target === '')) {
    throw new MountSpecError(`${m.type} mount requires a target (target=, dst= or destination=)`);
  }
  // Docker's default: bind, secret and ssh are read-only, cache and tmpfs writable.
  const readonly = m.readonly ?? !(m.type === 'cache' || m.type === 'tmpfs');
  return {
    type: m.type, target: m.target, source: m.source, from: m.from, readonly, id: m.id, sharing: m.sharing,
    mode: m.mode, uid: m.uid, gid: m.gid, size: m.size, required: m.required, env: m.env,
  };
}
