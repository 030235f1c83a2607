/**
 * Failpoints for crash-safety tests: when TSBUILD_FAILPOINT names a point, the process announces it
 * on stderr and stops there (alive, so a test can SIGKILL it at exactly that moment). Without the
 * variable a failpoint costs one environment lookup.
 */
export async function failpoint(name: string): Promise<void> {
  if (process.env['TSBUILD_FAILPOINT'] !== name) return;
  process.stderr.write(`failpoint ${name} reached\n`);
  await new Promise<never>(() => {
    // Keep the event loop alive until the test kills us.
    setInterval(() => undefined, 60_000);
  });
}
