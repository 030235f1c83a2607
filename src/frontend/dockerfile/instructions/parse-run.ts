/** RUN (with --mount, --network, --security, heredocs) and HEALTHCHECK. */
import type { InstructionNode } from '../ast.js';
import { didYouMean } from '../../../util/did-you-mean.js';
import { Diagnostics, fail } from './diagnostics.js';
import type { ErrorSite } from './diagnostics.js';
import { parseFlags, type FlagSpecs } from './flags.js';
import { parseGoDuration } from './duration.js';
import { MountSpecError, parseMount } from './run-mount.js';
import type { HealthcheckInstruction, NetworkFlag, RunInstruction, RunMount, RunMountSpec, SecurityFlag } from './instruction.js';
import { baseOf, commandLine, siteOf } from './site.js';
import type { ParseContext } from './site.js';
import { compactArray, EMPTY } from '../../../util/compact-array.js';

const MOUNT_TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];

/** Parses one --mount value, turning its errors into located diagnostics. */
export function parseMountAt(raw: string, site: ErrorSite, expand?: (v: string) => string): RunMount {
  try {
    return parseMount(raw, expand ? { expand } : {});
  } catch (e) {
    if (!(e instanceof MountSpecError)) throw e;
    if (e.unknownType !== undefined) fail(Diagnostics.unknownMountType, [e.unknownType, didYouMean(e.unknownType, MOUNT_TYPES)], site, e.token);
    return fail(Diagnostics.badMount, [`invalid --mount=${raw}: ${e.message}`], site, e.token);
  }
}

/** The flags of RUN and HEALTHCHECK (module constants: a literal at the call was an object per instruction). */
const RUN_FLAGS: FlagSpecs = { mount: 'strings', network: 'string', security: 'string' };
const NETWORK_MODES: readonly NetworkFlag[] = ['default', 'none', 'host'];
const SECURITY_MODES: readonly SecurityFlag[] = ['sandbox', 'insecure'];
const HEALTHCHECK_FLAGS: FlagSpecs = { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' };

export function parseRun(node: InstructionNode, ctx: ParseContext): RunInstruction {
  const site = siteOf(node, ctx);
  const f = parseFlags(node.flags, RUN_FLAGS, 'RUN', site);
  const command = commandLine(node);
  if (command.args.length === 0 && node.heredocs.length === 0) fail(Diagnostics.badArguments, ['RUN requires at least one argument'], site);
  const mountFlags = f.strings('mount');
  const mounts: readonly RunMountSpec[] = mountFlags.length === 0 ? EMPTY : compactArray(mountFlags.map((raw) => ({ raw, mount: parseMountAt(raw, site) })));
  // The modes as the shared constants (a flag value is a copy of its own that the typed
  // instruction kept through the conversion for the collector to copy).
  const networkFlag = f.string('network');
  const network = networkFlag === undefined ? undefined : NETWORK_MODES[NETWORK_MODES.indexOf(networkFlag as NetworkFlag)];
  if (networkFlag !== undefined && network === undefined) {
    fail(Diagnostics.badFlag, [`unsupported network mode "${networkFlag}" for RUN --network (default, none or host)`], site, '--network');
  }
  const securityFlag = f.string('security');
  const security = securityFlag === undefined ? undefined : SECURITY_MODES[SECURITY_MODES.indexOf(securityFlag as SecurityFlag)];
  if (securityFlag !== undefined && security === undefined) {
    fail(Diagnostics.badFlag, [`unsupported security mode "${securityFlag}" for RUN --security (sandbox or insecure)`], site, '--security');
  }
  const { location, original } = baseOf(node, ctx);
  return {
    kind: 'RUN',
    location,
    original,
    node,
    command,
    heredocs: node.heredocs,
    mounts,
    network,
    security,
  };
}

const MIN_DURATION_NS = 1_000_000; // 1ms, Docker's container.MinimumDuration

function duration(flag: string, value: string | undefined, site: ErrorSite): number | undefined {
  if (value === undefined || value === '') return undefined;
  let ns: number;
  try {
    ns = parseGoDuration(value);
  } catch (e) {
    return fail(Diagnostics.badDuration, [flag, value, (e as Error).message], site, `--${flag}`);
  }
  if (ns !== 0 && ns < MIN_DURATION_NS) fail(Diagnostics.badDuration, [flag, value, 'cannot be less than 1ms'], site, `--${flag}`);
  return ns;
}

export function parseHealthcheck(node: InstructionNode, ctx: ParseContext): HealthcheckInstruction {
  const site = siteOf(node, ctx);
  if (node.args.length === 0) fail(Diagnostics.badArguments, ['HEALTHCHECK requires at least one argument'], site);
  const f = parseFlags(node.flags, HEALTHCHECK_FLAGS, 'HEALTHCHECK', site);
  const typ = (node.args[0] as string).toUpperCase();
  const rest = node.args.slice(1);
  // The result is written out field by field: spreading `baseOf` and then adding fields made
  // V8 build each HEALTHCHECK object slowly (~10 µs, ten times any other instruction).
  const { location, original } = baseOf(node, ctx);
  if (typ === 'NONE') {
    if (rest.length !== 0) fail(Diagnostics.badArguments, ['HEALTHCHECK NONE takes no arguments'], site);
    return { kind: 'HEALTHCHECK', location, original, node, test: ['NONE'], interval: undefined, timeout: undefined, startPeriod: undefined, startInterval: undefined, retries: undefined };
  }
  if (typ !== 'CMD') fail(Diagnostics.badArguments, [`unknown type "${node.args[0] ?? ''}" in HEALTHCHECK (try CMD)`], site, node.args[0]);
  if (rest.length === 0) fail(Diagnostics.badArguments, ['missing command after HEALTHCHECK CMD'], site);
  const test = node.json ? ['CMD', ...rest] : ['CMD-SHELL', rest.join(' ')];
  const retriesRaw = f.string('retries');
  let retries: number | undefined;
  if (retriesRaw !== undefined && retriesRaw !== '') {
    if (!/^[+-]?[0-9]+$/.test(retriesRaw) || Math.abs(Number(retriesRaw)) > 2 ** 31 - 1) fail(Diagnostics.badFlag, [`invalid --retries "${retriesRaw}" for HEALTHCHECK: expected a whole number`], site, '--retries');
    retries = Number(retriesRaw);
    if (retries < 0) fail(Diagnostics.badFlag, [`--retries cannot be negative (${retries})`], site, '--retries');
  }
  const interval = duration('interval', f.string('interval'), site);
  const timeout = duration('timeout', f.string('timeout'), site);
  const startPeriod = duration('start-period', f.string('start-period'), site);
  const startInterval = duration('start-interval', f.string('start-interval'), site);
  return { kind: 'HEALTHCHECK', location, original, node, test, interval, timeout, startPeriod, startInterval, retries };
}
