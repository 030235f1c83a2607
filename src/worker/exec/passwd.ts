/**
 * Parsers for /etc/passwd and /etc/group as libc reads them: colon-separated fields, blank and
 * comment lines skipped, malformed numeric fields skip the line (as moby/sys/user does).
 */

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** A decimal id as Go's strconv.Atoi would accept for uids: digits only, in 0..2^31-1. */
export function parseId(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 0x7fffffff ? n : undefined;
}

function lines(content: string): string[][] {
  const out: string[][] = [];
  for (const raw of content.split('\n')) {
    const line = raw.trim();
    // NIS compat entries (+/-) carry no usable ids; libc's files backend ignores them too.
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    out.push(line.split(':'));
  }
  return out;
}

export function parsePasswd(content: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of lines(content)) {
    const uid = parseId(f[2] ?? '');
    const gid = parseId(f[3] ?? '');
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0] ?? '', uid, gid, home: f[5] ?? '', shell: f[6] ?? '' });
  }
  return out;
}

export function parseGroup(content: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of lines(content)) {
    const gid = parseId(f[2] ?? '');
    if (gid === undefined) continue;
    const members = (f[3] ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '');
    out.push({ name: f[0] ?? '', gid, members });
  }
  return out;
}
