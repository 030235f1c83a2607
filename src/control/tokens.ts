/**
 * Bearer tokens (`--token-file`). One token a line: `TOKEN ROLE [NAME]`, `#` comments and blank
 * lines ignored. TOKEN is the token itself (16+ characters) or `sha256:<hex>` of it, so the file
 * need not hold the secret; ROLE is `admin` or `readonly`; NAME names the client in ListBuilds,
 * per-client limits and logs (default `token-<first 8 hex of its sha256>`). Callers send
 * `authorization: Bearer TOKEN`. Tokens are looked up by their sha256, never compared as text.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { UsageError } from '../util/errors.js';
import type { Principal, Role } from './types.js';

const ROLES: readonly Role[] = ['admin', 'readonly'];
const MIN_TOKEN_LENGTH = 16;
/** What an HTTP/2 header value may carry, without spaces. */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

export class TokenTable {
  private constructor(
    private readonly byDigest: ReadonlyMap<string, Principal>,
    /** Lines holding a token itself rather than its digest. */
    readonly plainTokens: number,
  ) {}

  get size(): number {
    return this.byDigest.size;
  }

  /** The principal a presented token stands for, or undefined. */
  lookup(token: string): Principal | undefined {
    return this.byDigest.get(sha256Hex(token));
  }

  /** Parses a token file's text; `source` names it in errors. */
  static parse(text: string, source: string): TokenTable {
    const byDigest = new Map<string, Principal>();
    const names = new Set<string>();
    let plain = 0;
    for (const [i, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const where = `${source}:${i + 1}`;
      const [token, role, name, ...extra] = line.split(/\s+/) as [string, string | undefined, string | undefined, ...string[]];
      if (role === undefined || extra.length > 0) throw new UsageError(`${where}: expected "TOKEN ROLE [NAME]"`);
      if (!ROLES.includes(role as Role)) throw new UsageError(`${where}: unknown role "${role}" (expected ${ROLES.join(' or ')})`);
      let digest: string;
      if (token.startsWith('sha256:')) {
        digest = token.slice('sha256:'.length).toLowerCase();
        if (!/^[0-9a-f]{64}$/.test(digest)) throw new UsageError(`${where}: sha256: must be followed by 64 hex digits`);
      } else {
        if (!TOKEN_CHARS.test(token)) throw new UsageError(`${where}: a token may only hold printable ASCII without spaces`);
        if (token.length < MIN_TOKEN_LENGTH) throw new UsageError(`${where}: token too short (at least ${MIN_TOKEN_LENGTH} characters; e.g. openssl rand -hex 32)`);
        digest = sha256Hex(token);
        plain++;
      }
      if (byDigest.has(digest)) throw new UsageError(`${where}: the same token appears twice`);
      const principalName = name ?? `token-${digest.slice(0, 8)}`;
      if (names.has(principalName)) throw new UsageError(`${where}: the name "${principalName}" appears twice`);
      names.add(principalName);
      byDigest.set(digest, { name: principalName, role: role as Role });
    }
    if (byDigest.size === 0) throw new UsageError(`${source}: no tokens (every call would be refused)`);
    return new TokenTable(byDigest, plain);
  }

  /** Reads and parses a token file; `warnings` gets a line when it holds plain tokens others can read. */
  static async load(file: string, warnings: string[] = []): Promise<TokenTable> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read --token-file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    const table = TokenTable.parse(text, file);
    const st = await stat(file);
    if ((st.mode & 0o077) !== 0 && table.plainTokens > 0) {
      warnings.push(`${file} holds plain tokens and is readable by group or others (chmod 600 it, or store sha256:<hex> digests)`);
    }
    return table;
  }
}

/** The token of an `authorization` header value (`Bearer TOKEN`, scheme case-insensitive). */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}
