/**
 * Progress events (src/progress/types.ts) to and from tsbuild.control.v1.ProgressEvent, for the
 * Solve stream: the daemon maps the engine's events out, the gRPC client maps them back, so the
 * renderer sees the same events whichever client ran the build. Log data crosses as UTF-8 bytes.
 */
import type { ProgressEvent, VertexState } from '../progress/types.js';
import type { SourceLocation } from '../util/errors.js';
import { tsbuild } from './gen/control.js';

const pb = tsbuild.control.v1;
type WireProgress = tsbuild.control.v1.ProgressEvent.$Properties;
type WireLocation = tsbuild.control.v1.SourceLocation.$Properties;

const STATE_TO_WIRE: Readonly<Record<VertexState, tsbuild.control.v1.VertexState>> = {
  started: pb.VertexState.VERTEX_STATE_STARTED,
  cached: pb.VertexState.VERTEX_STATE_CACHED,
  completed: pb.VertexState.VERTEX_STATE_COMPLETED,
  error: pb.VertexState.VERTEX_STATE_ERROR,
  canceled: pb.VertexState.VERTEX_STATE_CANCELED,
};

const STATE_FROM_WIRE = new Map<number, VertexState>(Object.entries(STATE_TO_WIRE).map(([k, v]) => [v, k as VertexState]));

export function locationToWire(l: SourceLocation): WireLocation {
  return { file: l.file, line: l.line, column: l.column, endLine: l.endLine ?? 0 };
}

export function locationFromWire(l: WireLocation | null | undefined): SourceLocation | undefined {
  if (!l?.file) return undefined;
  return { file: l.file, line: l.line ?? 0, column: l.column ?? 0, ...(l.endLine ? { endLine: l.endLine } : {}) };
}

export function progressToWire(e: ProgressEvent): WireProgress {
  switch (e.type) {
    case 'vertex':
      return {
        vertex: {
          digest: e.digest, name: e.name, state: STATE_TO_WIRE[e.state], timestampMs: e.timestamp,
          startedMs: e.started ?? 0, completedMs: e.completed ?? 0, error: e.error ?? '', cacheMiss: e.cacheMiss ?? '', inputs: [...(e.inputs ?? [])],
        },
      };
    case 'status':
      return {
        status: {
          vertex: e.vertex, id: e.id, name: e.name ?? '', current: e.current, total: e.total ?? 0, timestampMs: e.timestamp,
          startedMs: e.started ?? 0, completedMs: e.completed ?? 0,
        },
      };
    case 'log':
      return { log: { vertex: e.vertex, stream: e.stream, data: Buffer.from(e.data, 'utf8'), timestampMs: e.timestamp } };
    case 'warning':
      return {
        warning: {
          vertex: e.vertex ?? '', message: e.message, detail: [...(e.detail ?? [])], url: e.url ?? '', timestampMs: e.timestamp,
          ...(e.location ? { location: locationToWire(e.location) } : {}),
        },
      };
  }
}

/** The event a wire message carries; undefined for an empty or unknown one (a newer peer's). */
export function progressFromWire(w: WireProgress): ProgressEvent | undefined {
  if (w.vertex) {
    const v = w.vertex;
    const state = STATE_FROM_WIRE.get(v.state ?? 0);
    if (state === undefined) return undefined;
    return {
      type: 'vertex', digest: v.digest ?? '', name: v.name ?? '', state, timestamp: Number(v.timestampMs ?? 0),
      ...(v.startedMs ? { started: Number(v.startedMs) } : {}),
      ...(v.completedMs ? { completed: Number(v.completedMs) } : {}),
      ...(v.error ? { error: v.error } : {}),
      ...(v.cacheMiss ? { cacheMiss: v.cacheMiss } : {}),
      ...(v.inputs?.length ? { inputs: v.inputs } : {}),
    };
  }
  if (w.status) {
    const s = w.status;
    return {
      type: 'status', vertex: s.vertex ?? '', id: s.id ?? '', current: Number(s.current ?? 0), timestamp: Number(s.timestampMs ?? 0),
      ...(s.name ? { name: s.name } : {}),
      ...(s.total ? { total: Number(s.total) } : {}),
      ...(s.startedMs ? { started: Number(s.startedMs) } : {}),
      ...(s.completedMs ? { completed: Number(s.completedMs) } : {}),
    };
  }
  if (w.log) {
    const l = w.log;
    return { type: 'log', vertex: l.vertex ?? '', stream: l.stream === 2 ? 2 : 1, data: Buffer.from(l.data ?? new Uint8Array()).toString('utf8'), timestamp: Number(l.timestampMs ?? 0) };
  }
  if (w.warning) {
    const x = w.warning;
    const location = locationFromWire(x.location);
    return {
      type: 'warning', message: x.message ?? '', timestamp: Number(x.timestampMs ?? 0),
      ...(x.vertex ? { vertex: x.vertex } : {}),
      ...(x.detail?.length ? { detail: x.detail } : {}),
      ...(x.url ? { url: x.url } : {}),
      ...(location ? { location } : {}),
    };
  }
  return undefined;
}
