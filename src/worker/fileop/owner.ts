/**
 * `--chown` resolution. Names are looked up in the *destination's* /etc/passwd and /etc/group (the
 * image being built, never the host), read through root-scoped resolution so a symlinked /etc/passwd
 * cannot point the lookup at the host's. As in BuildKit: a user without a group takes the user's
 * primary group when named, or gid = uid when numeric; a group alone leaves uid 0.
 */
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import type { SourceLocation } from '../../util/errors.js';
import { errnoCode, fileOpUserError, isNotFound } from './errors.js';
import { resolveInRoot } from './root-path.js';
import type { ChownOpt, Owner, UserOpt } from './types.js';

/** Refuse to read absurdly large account files (a hostile image could make one huge). */
const MAX_ACCOUNT_FILE = 16 << 20;

/** `--chown` text → ChownOpt: numeric parts become ids, others names (BuildKit's parseUser). */
export function parseChownSpec(spec: string, location?: SourceLocation): ChownOpt {
  const parts = spec.split(':');
  if (spec === '' || parts.length > 2) {
    throw fileOpUserError('FILEOP_BAD_CHOWN', [spec], { location });
  }
  const [user = '', group] = parts;
  const toOpt = (s: string): UserOpt | undefined => {
    if (s === '') return undefined;
    if (/^[0-9]+$/.test(s)) {
      const n = Number(s);
      if (n > 0xffffffff) throw fileOpUserError('FILEOP_BAD_CHOWN', [spec], { location });
      return { byId: n };
    }
    return { byName: { name: s } };
  };
  const u = toOpt(user);
  const g = group === undefined ? undefined : toOpt(group);
  if (group !== undefined && g === undefined) throw fileOpUserError('FILEOP_BAD_CHOWN', [spec], { location });
  return { ...(u ? { user: u } : {}), ...(g ? { group: g } : {}) };
}

interface AccountEntry {
  readonly name: string;
  readonly id: number;
  /** Primary gid (passwd only). */
  readonly gid: number;
}

export interface ResolveOwnerOptions {
  /** Root whose /etc/passwd and /etc/group are read. */
  readonly root: string;
  readonly location?: SourceLocation | undefined;
}

/** Resolves a ChownOpt to ids; undefined when no owner was asked for (keep the source owners). */
export async function resolveOwner(opt: ChownOpt | null | undefined, opts: ResolveOwnerOptions): Promise<Owner | undefined> {
  if (!opt) return undefined;
  const user = opt.user ?? undefined;
  const group = opt.group ?? undefined;
  if (!isSet(user) && !isSet(group)) return undefined;
  let uid = 0;
  let gid = 0;
  if (isSet(user)) {
    if (user.byName) {
      const name = user.byName.name ?? '';
      const entry = await findEntry(opts.root, '/etc/passwd', name, 'passwd', opts.location);
      uid = entry.id;
      gid = entry.gid;
    } else {
      uid = user.byId ?? 0;
      gid = uid;
    }
  }
  if (isSet(group)) {
    if (group.byName) {
      gid = (await findEntry(opts.root, '/etc/group', group.byName.name ?? '', 'group', opts.location)).id;
    } else {
      gid = group.byId ?? 0;
    }
  }
  return { uid, gid };
}

function isSet(u: UserOpt | undefined): u is UserOpt {
  return u !== undefined && (u.byName != null || u.byId != null);
}

async function findEntry(
  root: string,
  file: '/etc/passwd' | '/etc/group',
  name: string,
  kind: 'passwd' | 'group',
  location: SourceLocation | undefined,
): Promise<AccountEntry> {
  const code = kind === 'passwd' ? 'FILEOP_UNKNOWN_USER' : 'FILEOP_UNKNOWN_GROUP';
  const text = await readAccountFile(root, file);
  if (text === undefined) {
    throw fileOpUserError(code, [name, `no ${file} in the destination filesystem`], { location });
  }
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f[0] !== name) continue;
    const id = Number(f[2]);
    const gid = kind === 'passwd' ? Number(f[3]) : id;
    if (!Number.isInteger(id) || !Number.isInteger(gid) || f[2] === '' || (kind === 'passwd' && f[3] === '')) continue;
    return { name, id, gid };
  }
  throw fileOpUserError(code, [name, `no matching entries in ${kind} file`], { location });
}

/** The file's text, or undefined when it is missing or not a regular file (a fifo must not hang us). */
async function readAccountFile(root: string, file: string): Promise<string | undefined> {
  const { host } = await resolveInRoot(root, file, { followFinal: true });
  let fh;
  try {
    // O_NONBLOCK keeps a fifo planted at /etc/passwd from blocking the open.
    fh = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if (isNotFound(e) || errnoCode(e) === 'ELOOP') return undefined;
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > MAX_ACCOUNT_FILE) return undefined;
    return await fh.readFile({ encoding: 'utf8' });
  } finally {
    await fh.close();
  }
}
