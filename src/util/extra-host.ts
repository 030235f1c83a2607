/**
 * `--add-host` entries (`HOST:IP`, also buildx's `HOST=IP`): what makes one valid, in one place for
 * the client that parses the flag and the engine that takes entries from the wire. An entry becomes
 * a line `IP<TAB>HOST` of every RUN step's /etc/hosts, so a host with whitespace (or a `#`, which
 * would comment out the rest) could not be written as one; the address must be an IP address, as
 * Docker's `ValidateExtraHost` requires.
 */
import { isIP } from 'node:net';

export interface ExtraHostEntry {
  readonly host: string;
  readonly ip: string;
}

/** Why `e` cannot be an /etc/hosts line, or undefined when it can. */
export function extraHostProblem(e: ExtraHostEntry): string | undefined {
  if (e.host === '') return 'the host name is empty';
  if (/[\s#]/.test(e.host)) return `the host name ${JSON.stringify(e.host)} has a space or #`;
  if (e.ip === 'host-gateway') return 'host-gateway is not supported (nor by Docker 20.10\'s builder): give the IP address';
  if (isIP(e.ip) === 0) return `invalid IP address ${JSON.stringify(e.ip)}`;
  return undefined;
}

/**
 * Splits one `--add-host` value: at the first `=` when there is one (buildx), else at the first `:`
 * (`docker build`; an IPv6 address keeps its colons, and may be written in brackets). Undefined
 * when there is no separator at all.
 */
export function splitExtraHost(value: string): ExtraHostEntry | undefined {
  const at = value.includes('=') ? value.indexOf('=') : value.indexOf(':');
  if (at < 0) return undefined;
  let ip = value.slice(at + 1);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  return { host: value.slice(0, at), ip };
}
