/** STOPSIGNAL values as Docker's signal.ParseSignal accepts them: a number or a Linux signal name. */

const NAMES = new Set([
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE',
  'POLL', 'PROF', 'PWR', 'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU',
  'UNUSED', 'URG', 'USR1', 'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ', 'RTMIN', 'RTMAX',
]);

export function isValidSignal(sig: string): boolean {
  if (/^[0-9]+$/.test(sig)) {
    const n = Number(sig);
    return n > 0 && n < 256;
  }
  const name = sig.toUpperCase().replace(/^SIG/, '');
  if (NAMES.has(name)) return true;
  const rt = /^RTMIN\+([0-9]+)$|^RTMAX-([0-9]+)$/.exec(name);
  if (rt) return Number(rt[1] ?? rt[2]) <= 15;
  return false;
}
