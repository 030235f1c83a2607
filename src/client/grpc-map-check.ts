/**
 * Check and Repair answers both ways (the daemon encodes, the client decodes), generically: a
 * problem crosses as its `kind` and its other fields as text, and the whole report also as JSON
 * (`report_json`), which tsbuild's client reads. So new problem kinds and new report fields (the
 * cache layer grows them) need no proto change: other languages read kind + fields, tsbuild gets
 * the report exactly as the engine returned it. Without report_json (another daemon), the typed
 * fields are used; numeric-looking field values then stay strings.
 */
import type { tsbuild } from './gen/control.js';
import type { CheckProblem, CheckResult, RepairReport } from './types.js';

type v1 = typeof tsbuild.control.v1;
type Props<T extends keyof v1> = v1[T] extends { encode(m: infer M, ...rest: never[]): unknown } ? M : never;

function problemToWire(p: CheckProblem): Props<'CheckProblem'> {
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (k !== 'kind' && v !== undefined) fields[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return { kind: p.kind, fields };
}

function problemFromWire(w: Props<'CheckProblem'>): CheckProblem {
  return { kind: w.kind ?? '', ...w.fields } as unknown as CheckProblem;
}

/** A report from its JSON, when the daemon sent one that parses to an object. */
function fromJson<T>(json: string | null | undefined): T | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as unknown;
    return v !== null && typeof v === 'object' ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}

export function checkResultToWire(r: CheckResult): Props<'CheckResponse'> {
  return {
    ok: r.ok, problems: r.problems.map(problemToWire), recordsChecked: r.recordsChecked, blobsChecked: r.blobsChecked,
    recovered: [...r.recovered], reportJson: JSON.stringify(r),
  };
}

export function checkResultFromWire(w: Props<'CheckResponse'>): CheckResult {
  return fromJson<CheckResult>(w.reportJson) ?? {
    ok: w.ok ?? false, problems: (w.problems ?? []).map(problemFromWire), recordsChecked: w.recordsChecked ?? 0, blobsChecked: w.blobsChecked ?? 0,
    recovered: [...(w.recovered ?? [])],
  };
}

export function repairReportToWire(r: RepairReport): Props<'RepairResponse'> {
  const recovered = (r as { readonly recovered?: readonly string[] }).recovered ?? [];
  return { fixed: r.fixed.map(problemToWire), remaining: r.remaining.map(problemToWire), recovered: [...recovered], reportJson: JSON.stringify(r) };
}

export function repairReportFromWire(w: Props<'RepairResponse'>): RepairReport {
  // `recovered` is in the proto before every engine reports it; the assertion lets both shapes through.
  return fromJson<RepairReport>(w.reportJson) ?? ({
    fixed: (w.fixed ?? []).map(problemFromWire), remaining: (w.remaining ?? []).map(problemFromWire), recovered: [...(w.recovered ?? [])],
  } as RepairReport);
}
