/**
 * USER resolution against the image's own /etc/passwd and /etc/group, following Docker
 * (moby/sys/user GetExecUser): names or numeric ids, an explicit group replaces the supplementary
 * groups, numeric uids need no passwd entry (gid 0, home /), unknown names are an error.
 */
import { UserInputError } from '../../util/errors.js';
import { ExecErrorCode } from './errors.js';
import { parseGroup, parseId, parsePasswd } from './passwd.js';
import type { GroupEntry, PasswdEntry } from './passwd.js';
import { readFileInRoot } from './root-path.js';
import type { ResolvedUser } from './types.js';

export interface ResolveUserOptions {
  /** Host path of the container's root filesystem. */
  readonly rootfs: string;
  /** The USER value: `name`, `uid`, `name:group`, `uid:gid`, `uid:group`; empty means root. */
  readonly user: string;
  readonly signal: AbortSignal;
}

async function readPasswd(rootfs: string, signal: AbortSignal): Promise<PasswdEntry[]> {
  const b = await readFileInRoot(rootfs, '/etc/passwd', signal);
  return b === undefined ? [] : parsePasswd(b.toString('utf8'));
}

async function readGroup(rootfs: string, signal: AbortSignal): Promise<GroupEntry[]> {
  const b = await readFileInRoot(rootfs, '/etc/group', signal);
  return b === undefined ? [] : parseGroup(b.toString('utf8'));
}

function unique(ids: readonly number[]): number[] {
  return [...new Set(ids)];
}

/** Resolves a USER spec; throws UserInputError (USER_NOT_FOUND, GROUP_NOT_FOUND, INVALID_USER). */
export async function resolveUser(opts: ResolveUserOptions): Promise<ResolvedUser> {
  const spec = opts.user.trim();
  const colon = spec.indexOf(':');
  // An empty user means root; Docker looks it up by uid so that HOME and groups still come from passwd.
  const userArg = (colon < 0 ? spec : spec.slice(0, colon)) || '0';
  const groupArg = colon < 0 ? '' : spec.slice(colon + 1);
  if (userArg.startsWith('-') || (groupArg !== '' && groupArg.startsWith('-'))) {
    throw new UserInputError(ExecErrorCode.invalidUser, `invalid user ${JSON.stringify(spec)}: uids and gids must be in range 0-2147483647`);
  }

  const users = await readPasswd(opts.rootfs, opts.signal);
  const numericUid = parseId(userArg);
  const found = users.find((u) => u.name === userArg || (numericUid !== undefined && u.uid === numericUid));
  if (found === undefined && numericUid === undefined) {
    if (/^\d+$/.test(userArg)) {
      throw new UserInputError(ExecErrorCode.invalidUser, `invalid user ${JSON.stringify(spec)}: uids and gids must be in range 0-2147483647`);
    }
    throw new UserInputError(ExecErrorCode.userNotFound, `unable to find user ${userArg}: no matching entries in passwd file`);
  }
  const uid = found?.uid ?? (numericUid as number);
  let gid = found?.gid ?? 0;
  const home = found?.home || '/';

  const needGroups = groupArg !== '' || found !== undefined;
  const groups = needGroups ? await readGroup(opts.rootfs, opts.signal) : [];
  let additionalGids: number[] = [];
  if (groupArg !== '') {
    const numericGid = parseId(groupArg);
    const g = groups.find((e) => e.name === groupArg || (numericGid !== undefined && e.gid === numericGid));
    if (g !== undefined) gid = g.gid;
    else if (numericGid !== undefined) gid = numericGid;
    else if (/^\d+$/.test(groupArg)) {
      throw new UserInputError(ExecErrorCode.invalidUser, `invalid user ${JSON.stringify(spec)}: uids and gids must be in range 0-2147483647`);
    } else {
      throw new UserInputError(ExecErrorCode.groupNotFound, `unable to find group ${groupArg}: no matching entries in group file`);
    }
  } else if (found !== undefined) {
    additionalGids = unique(groups.filter((g) => g.members.includes(found.name)).map((g) => g.gid));
  }
  return { uid, gid, additionalGids, home, name: found?.name };
}
