/**
 * Docker's "init layer": /etc/hosts, /etc/resolv.conf and /etc/hostname are generated per run and
 * bind-mounted over the rootfs, so they never end up in the step's layer.
 */
import { isIP } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsbuildError } from '../../util/errors.js';
import { errnoCode } from './root-path.js';
import { ExecErrorCode } from './errors.js';
import { SANDBOX_DNS } from './sandbox-network.js';
import type { ExtraHost, NetworkMode } from './types.js';

/** Docker's fallback when the host's resolvers are unreachable from the container (Google DNS). */
export const DEFAULT_NAMESERVERS: readonly string[] = ['8.8.8.8', '8.8.4.4'];

/** systemd-resolved's stub listens on loopback; its real upstream list lives here (Docker reads it too). */
const SYSTEMD_RESOLV_CONF = '/run/systemd/resolve/resolv.conf';

function isLoopback(addr: string): boolean {
  const a = addr.split('%')[0] ?? addr;
  return a.startsWith('127.') || a === '::1' || a === '0:0:0:0:0:0:0:1';
}

/** Checks a hostname the way the kernel and resolvers will accept it. */
export function checkHostname(hostname: string): void {
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(hostname)) {
    throw new TsbuildError(ExecErrorCode.invalidRequest, `invalid hostname ${JSON.stringify(hostname)}`);
  }
}

/** The generated /etc/hosts: loopback names, the container's hostname, then `--add-host` entries. */
export function hostsFile(hostname: string, extraHosts: readonly ExtraHost[]): string {
  const lines = [`127.0.0.1\tlocalhost ${hostname}`, '::1\tlocalhost ip6-localhost ip6-loopback'];
  for (const h of extraHosts) {
    if (isIP(h.ip) === 0) throw new TsbuildError(ExecErrorCode.invalidRequest, `invalid IP address ${JSON.stringify(h.ip)} for host ${h.host}`);
    if (h.host === '' || /\s/.test(h.host)) throw new TsbuildError(ExecErrorCode.invalidRequest, `invalid host name ${JSON.stringify(h.host)}`);
    lines.push(`${h.ip}\t${h.host}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The container's resolv.conf from the host's. With the host network the host's file works as is.
 * In the sandbox network the only resolver is slirp4netns' forwarder, which resends each query to
 * the host's own resolvers from the host's namespace: names resolve exactly as on the host, also
 * when its resolver listens on loopback (systemd-resolved's 127.0.0.53, a local dnsmasq), as with
 * Docker's embedded DNS; the host's search and options lines are kept. With no network (`none`)
 * loopback resolvers are dropped and Docker's defaults are used when nothing is left.
 */
export function resolvConf(hostContent: string, network: NetworkMode): string {
  if (network === 'host') return hostContent;
  const out: string[] = [];
  let nameservers = 0;
  for (const line of hostContent.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m !== null) {
      if (network === 'sandbox' || isLoopback(m[1] ?? '')) continue;
      nameservers++;
    }
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  if (network === 'sandbox') out.push(`nameserver ${SANDBOX_DNS}`);
  else if (nameservers === 0) for (const ns of DEFAULT_NAMESERVERS) out.push(`nameserver ${ns}`);
  return `${out.join('\n')}\n`;
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return '';
    throw e;
  }
}

/** Reads the host's resolv.conf, preferring systemd-resolved's upstream list over its loopback stub. */
export function readHostResolvConf(path: string, network: NetworkMode): string {
  const content = readOrEmpty(path);
  if (network === 'none' && /^\s*nameserver\s+127\.0\.0\.53\b/m.test(content)) {
    const upstream = readOrEmpty(SYSTEMD_RESOLV_CONF);
    if (upstream !== '') return upstream;
  }
  return content;
}

export interface InitFilesOptions {
  /** Directory to write the files in (the run's bundle). */
  readonly dir: string;
  readonly hostname: string;
  readonly network: NetworkMode;
  readonly extraHosts: readonly ExtraHost[];
  /** Host resolv.conf to start from. */
  readonly hostResolvConfPath: string;
}

/** Host paths of the generated files, keyed by their path in the container. */
export type InitFiles = ReadonlyArray<{ readonly target: string; readonly source: string }>;

/**
 * Writes the three files into the bundle. Synchronous: three small writes and one small read, on
 * every RUN's critical path, where thread-pool trips waited behind the build's other file I/O (the
 * layer tars' writes and fsyncs) and for event-loop turns (docs/benchmarks.md, s15-run-cost).
 */
export function writeInitFiles(opts: InitFilesOptions): InitFiles {
  checkHostname(opts.hostname);
  const files: Array<[string, string, string]> = [
    ['/etc/hosts', 'hosts', hostsFile(opts.hostname, opts.extraHosts)],
    ['/etc/resolv.conf', 'resolv.conf', resolvConf(readHostResolvConf(opts.hostResolvConfPath, opts.network), opts.network)],
    ['/etc/hostname', 'hostname', `${opts.hostname}\n`],
  ];
  return files.map(([target, name, content]) => {
    const source = join(opts.dir, name);
    writeFileSync(source, content, { mode: 0o644 });
    return { target, source };
  });
}
