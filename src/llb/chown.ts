/** `--chown`/USER strings (`user`, `user:group`, `uid:gid`) → the LLB ChownOpt message. */
import type { tsbuild } from './gen/llb.js';

const DIGITS = /^\d+$/;

function userOpt(part: string, input: number): tsbuild.llb.UserOpt.$Properties {
  if (DIGITS.test(part)) return { byId: Number(part) };
  return { byName: { name: part, input } };
}

/**
 * Names are resolved later by the worker against /etc/passwd and /etc/group of input `input`;
 * numeric ids are used as they are. Returns undefined for "".
 */
export function chownOpt(spec: string, input: number): tsbuild.llb.ChownOpt.$Properties | undefined {
  if (spec === '') return undefined;
  const colon = spec.indexOf(':');
  const user = colon < 0 ? spec : spec.slice(0, colon);
  const group = colon < 0 ? '' : spec.slice(colon + 1);
  const out: tsbuild.llb.ChownOpt.$Properties = {};
  if (user !== '') out.user = userOpt(user, input);
  if (group !== '') out.group = userOpt(group, input);
  return out;
}
