/** EXPOSE port specs: `80`, `80/tcp`, `53/udp`, `8000-8010/sctp`. */

/** `PORT` or `START-END` (a module constant: a RegExp literal is a new object per evaluation). */
const PORT_RANGE = /^([0-9]+)(?:-([0-9]+))?$/;

export interface PortRange {
  readonly start: number;
  readonly end: number;
  readonly proto: 'tcp' | 'udp' | 'sctp';
}

/** Parses one port spec; returns a reason string when invalid. */
export function parsePortSpec(spec: string): PortRange | { readonly error: string } {
  const slash = spec.indexOf('/');
  const ports = slash < 0 ? spec : spec.slice(0, slash);
  const proto = (slash < 0 ? 'tcp' : spec.slice(slash + 1)).toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') return { error: `invalid protocol "${spec.slice(slash + 1)}" (tcp, udp or sctp)` };
  if (ports.includes(':')) return { error: 'EXPOSE takes container ports only; publish host ports with docker run -p' };
  const m = PORT_RANGE.exec(ports);
  if (!m) return { error: 'expected PORT or START-END' };
  const start = Number(m[1]);
  const end = m[2] !== undefined ? Number(m[2]) : start;
  if (start < 1 || end > 65535 || start > 65535) return { error: 'ports are between 1 and 65535' };
  if (end < start) return { error: `invalid range, ${end} < ${start}` };
  return { start, end, proto };
}

/** The ExposedPorts keys Docker stores for a spec (`8000/tcp`, one per port of a range). */
export function exposedPortKeys(r: PortRange): string[] {
  const out: string[] = [];
  for (let p = r.start; p <= r.end; p++) out.push(`${p}/${r.proto}`);
  return out;
}
