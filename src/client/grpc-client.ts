/**
 * The gRPC Client: the contract (types.ts) over tsbuildd's API (proto/control.proto), on the
 * client's own small gRPC transport (h2/: its own HTTP/2 on node:net, node:http2 only for TLS;
 * loading @grpc/grpc-js, then node:http2, cost more start-up than a no-op build through the daemon
 * may take, issue 10). Requests and answers go through grpc-map-requests.ts / grpc-map-responses.ts,
 * failed calls become the same typed errors the embedded engine throws (grpc-errors.ts: the
 * daemon's ErrorDetail trailer), and the call's AbortSignal cancels the RPC (CANCELLED). The
 * unary and streaming calls themselves are grpc-calls.ts.
 *
 * Addresses: `unix:///ABSOLUTE/PATH`, or `tcp://HOST:PORT` with TLS when a CA is given (and a
 * client certificate for daemons that require one); a bearer token goes in `authorization`.
 *
 * What the daemon does not serve: `parse`, `llb` (static Dockerfile tools) and `login`, `logout`
 * (they write the client's docker config) run here, in the client's process, loading that code
 * only when called. `build` is the Solve stream (grpc-solve.ts); `pull` and `push` carry the
 * credentials of their one registry host, read here from the client's docker config
 * (grpc-credentials.ts); `loadImages` and `importImage` stream the archive, opened here
 * (grpc-archive.ts, loaded only for them: it brings tar and child_process), to the daemon.
 * `saveImages` (`tsbuild save`) reads the Save stream into the call's output, pausing the call while
 * a write waits (the output's pace is the daemon's).
 */
import { solveOverGrpc } from './grpc-solve.js';
// node:fs/promises through node:fs's lazy `promises` getter (util/lazy-builtin.ts).
import { promises as fsp } from 'node:fs';
import { H2Channel, type ChannelOptions } from './h2/channel.js';
import type { H2Call } from './h2/call.js';
import { cancelled, clientStreamCall, serverStreamCall, unaryCall, type Method } from './grpc-calls.js';
import { caPemOf, clientCredentials, registryHost } from './grpc-credentials.js';
import { checkResultFromWire, repairReportFromWire } from './grpc-map-check.js';
import {
  credentialsToWire, loadedImageFromWire, pullRequestToWire, pullSummaryFromWire, pushRequestToWire, pushSummaryFromWire, registryOptionsToWire,
  transferEventFromWire,
} from './grpc-map-registry.js';
import { ControlService } from './gen/control-grpc.js';
import type { tsbuild } from './gen/control.js';
import { errorFromDetail, errorFromStatus } from './grpc-errors.js';
import { progressFromWire } from './solve-wire-progress.js';
import { resultFromWire } from './solve-wire-build.js';
import { diskUsageOut, imageRefOut, pruneOut, removeImageOut, tagImageOut } from './grpc-map-requests.js';
import {
  diskUsageIn, engineInfoIn, historyRowIn, imageInspectIn, imageRecordIn, imageSummaryIn, prunedRecordIn, removedImageIn,
} from './grpc-map-responses.js';
import { runningBuildIn } from './grpc-running-builds.js';
import { TsbuildError, UsageError } from '../util/errors.js';
import { buildHistoryOut, pastBuildIn } from './grpc-build-history.js';
import type {
  BuildHistoryRequest, PastBuild,
  AttachCallOptions, AttachRequest, RunningBuildSummary, BuildCallOptions, BuildRequest, BuildResult, CallOptions, CheckRequest, CheckResult, Client, DiskUsage, DiskUsageRequest, EngineInfo,
  HistoryRow, ImageInspect, ImageRecord, ImageRef, ImageSummary, ImportRequest, InputCallOptions, LlbRequest, LlbResult, LoadRequest, OutputCallOptions, SaveRequest, SavedImage,
  LoadedImage, LoginRequest, LoginResult, LogoutRequest, LogoutResult, ParseRequest, ParseResult, PrunedRecord, PruneRequest, PruneResult,
  PullRequest, PullSummary, PushRequest, PushSummary, RemoveImageRequest, RemovedImage, RepairReport, TagImageRequest, TransferCallOptions,
} from './types.js';

export interface GrpcClientOptions {
  /** The daemon: `unix:///run/tsbuild/tsbuildd.sock` or `tcp://HOST:PORT`. */
  readonly address: string;
  /** PEM CA file to verify a tcp daemon with; with it the channel uses TLS. */
  readonly tlsCaFile?: string;
  /** PEM client certificate and key files, for daemons started with --tls-ca. */
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
  /** Sent as `authorization: Bearer TOKEN` (daemons with --token-file). */
  readonly token?: string;
}

type SaveResponse = tsbuild.control.v1.SaveResponse;

/** Where a daemon address points; usage errors for anything else. */
export function channelTarget(address: string): ChannelOptions['target'] {
  const unix = /^unix:\/\/(\/.+)$/.exec(address);
  if (unix) return { kind: 'unix', path: unix[1] as string };
  const tcp = /^tcp:\/\/(?:\[([^\]]+)\]|([^:/]+)):(\d+)$/.exec(address);
  if (tcp) return { kind: 'tcp', host: (tcp[1] ?? tcp[2]) as string, port: Number(tcp[3]) };
  throw new UsageError(`invalid daemon address "${address}": expected unix:///ABSOLUTE/PATH or tcp://HOST:PORT`);
}

export class GrpcClient implements Client {
  readonly #channel: H2Channel;
  readonly address: string;
  #closed = false;

  private constructor(address: string, channel: H2Channel) {
    this.address = address;
    this.#channel = channel;
  }

  /**
   * A client for the daemon at `opts.address`: reads the TLS files and starts connecting, so the
   * connection is being set up while the caller prepares its first call.
   */
  static async connect(opts: GrpcClientOptions): Promise<GrpcClient> {
    const target = channelTarget(opts.address);
    if ((opts.tlsCertFile === undefined) !== (opts.tlsKeyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
    if (opts.tlsCertFile !== undefined && opts.tlsCaFile === undefined) throw new UsageError('--tls-cert needs --tls-ca (the CA that signed the daemon\'s certificate)');
    if (opts.tlsCaFile !== undefined && target.kind === 'unix') throw new UsageError('TLS options apply to tcp:// addresses only');
    const read = (f: string | undefined): Promise<Buffer | undefined> => (f === undefined ? Promise.resolve(undefined) : fsp.readFile(f));
    const [ca, cert, key] = await Promise.all([read(opts.tlsCaFile), read(opts.tlsCertFile), read(opts.tlsKeyFile)]);
    const channel = new H2Channel({
      target,
      ...(ca ? { tls: { ca, ...(cert ? { cert } : {}), ...(key ? { key } : {}) } } : {}),
      ...(opts.token !== undefined ? { headers: { authorization: `Bearer ${opts.token}` } } : {}),
    });
    channel.connect();
    return new GrpcClient(opts.address, channel);
  }

  #check(signal: AbortSignal): void {
    if (this.#closed) throw new TsbuildError('CLIENT_CLOSED', 'the client is closed');
    if (signal.aborted) throw cancelled(signal);
  }

  #unary<Req, Res>(m: Method<Req, Res>, req: Req, signal: AbortSignal): Promise<Res> {
    this.#check(signal);
    return unaryCall(this.#channel, m, req, signal);
  }

  #serverStream<Req, Res>(m: Method<Req, Res>, req: Req, signal: AbortSignal, onMessage: (r: Res) => void): Promise<void> {
    this.#check(signal);
    return serverStreamCall(this.#channel, m, req, signal, onMessage);
  }

  #clientStream<Req, Res>(m: Method<Req, Res>, messages: (signal: AbortSignal) => AsyncIterable<Req>, signal: AbortSignal): Promise<Res> {
    this.#check(signal);
    return clientStreamCall(this.#channel, m, messages, signal);
  }

  async info(opts: CallOptions): Promise<EngineInfo> {
    return engineInfoIn(await this.#unary(ControlService.Info, {}, opts.signal));
  }

  build(req: BuildRequest, opts: BuildCallOptions): Promise<BuildResult> {
    return solveOverGrpc(this.#channel, req, opts, { sameHost: this.address.startsWith('unix://') });
  }

  async listBuilds(opts: CallOptions): Promise<RunningBuildSummary[]> {
    return (await this.#unary(ControlService.ListBuilds, {}, opts.signal)).builds.map(runningBuildIn);
  }

  async attach(req: AttachRequest, opts: AttachCallOptions): Promise<BuildResult> {
    let result: BuildResult | undefined;
    let failure: unknown;
    try {
      await this.#serverStream(ControlService.Status, { ref: req.ref }, opts.signal, (m) => {
        if (m.progress) {
          const ev = progressFromWire(m.progress);
          if (ev) opts.onProgress?.(ev);
        } else if (m.result) {
          result = resultFromWire(m.result);
        } else if (m.error) {
          failure = errorFromDetail(m.error);
        }
      });
    } catch (e) {
      // The status after an `error` message repeats it; keep the message's.
      throw failure ?? e;
    }
    if (failure !== undefined) throw failure;
    if (!result) throw new TsbuildError('DAEMON_PROTOCOL', 'the Status stream ended without the build\'s result');
    return result;
  }

  async parse(req: ParseRequest, opts: CallOptions): Promise<ParseResult> {
    return (await GrpcClient.#local()).parse(req, opts);
  }

  async llb(req: LlbRequest, opts: CallOptions): Promise<LlbResult> {
    return (await GrpcClient.#local()).llb(req, opts);
  }

  async listImages(opts: CallOptions): Promise<ImageSummary[]> {
    return (await this.#unary(ControlService.ListImages, {}, opts.signal)).images.map(imageSummaryIn);
  }

  async removeImage(req: RemoveImageRequest, opts: CallOptions): Promise<RemovedImage> {
    return removedImageIn(await this.#unary(ControlService.RemoveImage, removeImageOut(req), opts.signal));
  }

  async tagImage(req: TagImageRequest, opts: CallOptions): Promise<ImageRecord> {
    const res = await this.#unary(ControlService.TagImage, tagImageOut(req), opts.signal);
    if (!res.image) throw new TsbuildError('DAEMON_TOO_OLD', 'the daemon tagged the image but did not return its record (an older tsbuildd)');
    return imageRecordIn(res.image);
  }

  async history(req: ImageRef, opts: CallOptions): Promise<HistoryRow[]> {
    // The proto's History RPC is about past builds; an image's history rows come with Inspect.
    return (await this.#unary(ControlService.Inspect, imageRefOut(req), opts.signal)).history.map(historyRowIn);
  }

  async inspect(req: ImageRef, opts: CallOptions): Promise<ImageInspect> {
    const res = await this.#unary(ControlService.Inspect, imageRefOut(req), opts.signal);
    return imageInspectIn(res.image ?? {});
  }

  async importImage(req: ImportRequest, opts: InputCallOptions): Promise<ImageRecord> {
    this.#check(opts.signal);
    // Checked before the call, so a missing source fails as embedded, without reaching the daemon.
    const { importSource } = await import('./grpc-archive.js');
    const open = await importSource(req.source, opts.input);
    // The engine's default comment names the client's source (an empty message, as proto3 has no presence, gets it too).
    const start = { name: req.name, message: req.message ?? `Imported from ${req.source}`, sourceName: req.source, platform: req.platform ?? '' };
    const res = await this.#clientStream(ControlService.Import, async function* (signal) {
      yield { start };
      for await (const data of open(signal)) yield { data: { data } };
    }, opts.signal);
    if (!res.image) throw new TsbuildError('DAEMON_PROTOCOL', 'the daemon imported the image but did not return its record');
    return imageRecordIn(res.image);
  }

  async loadImages(req: LoadRequest, opts: InputCallOptions): Promise<LoadedImage[]> {
    this.#check(opts.signal);
    const { loadSource } = await import('./grpc-archive.js');
    const open = await loadSource(req.source, opts.input);
    // The daemon names a streamed archive as the engine names this source in its messages.
    const start = { sourceName: req.source === '-' ? (opts.inputLabel ?? '') : req.source };
    const res = await this.#clientStream(ControlService.Load, async function* (signal) {
      yield { start };
      for await (const data of open(signal)) yield { data: { data } };
    }, opts.signal);
    return (res.images ?? []).map(loadedImageFromWire);
  }

  async saveImages(req: SaveRequest, opts: OutputCallOptions): Promise<SavedImage[]> {
    this.#check(opts.signal);
    const m = ControlService.Save;
    const call: H2Call<tsbuild.control.v1.SaveRequest.$Properties, SaveResponse> = this.#channel.call(m.path, m);
    call.end({ names: [...req.names] });
    const onAbort = (): void => call.cancel();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    let saved: SavedImage[] | undefined;
    try {
      // Iterating the stream reads one message at a time: a slow output holds the daemon back.
      for await (const r of call as AsyncIterable<SaveResponse>) {
        if (r.data?.data?.length) await opts.output.write(r.data.data);
        else if (r.summary) saved = (r.summary.images ?? []).map((i) => ({ ...(i.name ? { name: i.name } : {}), manifestDigest: i.manifestDigest ?? '', configDigest: i.configDigest ?? '' }));
      }
    } catch (e) {
      call.cancel();
      throw opts.signal.aborted ? cancelled(opts.signal) : (e instanceof TsbuildError ? e : errorFromStatus(e as Error));
    } finally {
      opts.signal.removeEventListener('abort', onAbort);
    }
    if (!saved) throw new TsbuildError('DAEMON_PROTOCOL', 'the Save stream ended without its summary');
    return saved;
  }

  async pull(req: PullRequest, opts: TransferCallOptions): Promise<PullSummary> {
    this.#check(opts.signal);
    const host = await registryHost(req.ref);
    const creds = await clientCredentials(req.registry, opts.credentials)(host, opts.signal);
    const wire = pullRequestToWire(req, registryOptionsToWire(req.registry, await caPemOf(req.registry)), credentialsToWire(host, creds));
    let summary: PullSummary | undefined;
    await this.#serverStream(ControlService.Pull, wire, opts.signal, (m) => {
      if (m.progress) opts.onProgress?.(transferEventFromWire(m.progress));
      else if (m.summary) summary = pullSummaryFromWire(m.summary);
    });
    if (!summary) throw new TsbuildError('DAEMON_PROTOCOL', 'the Pull stream ended without its summary');
    return summary;
  }

  async push(req: PushRequest, opts: TransferCallOptions): Promise<PushSummary> {
    this.#check(opts.signal);
    const host = await registryHost(req.name);
    const creds = await clientCredentials(req.registry, opts.credentials)(host, opts.signal);
    const wire = pushRequestToWire(req, registryOptionsToWire(req.registry, await caPemOf(req.registry)), credentialsToWire(host, creds));
    let summary: PushSummary | undefined;
    await this.#serverStream(ControlService.Push, wire, opts.signal, (m) => {
      if (m.progress) opts.onProgress?.(transferEventFromWire(m.progress));
      else if (m.summary) summary = pushSummaryFromWire(m.summary);
    });
    if (!summary) throw new TsbuildError('DAEMON_PROTOCOL', 'the Push stream ended without its summary');
    return summary;
  }

  async login(req: LoginRequest, opts: CallOptions): Promise<LoginResult> {
    return (await GrpcClient.#local()).login(req, opts);
  }

  async logout(req: LogoutRequest, opts: CallOptions): Promise<LogoutResult> {
    return (await GrpcClient.#local()).logout(req, opts);
  }

  async buildHistory(req: BuildHistoryRequest, opts: CallOptions): Promise<PastBuild[]> {
    return (await this.#unary(ControlService.History, buildHistoryOut(req), opts.signal)).builds.map(pastBuildIn);
  }

  async diskUsage(req: DiskUsageRequest, opts: CallOptions): Promise<DiskUsage> {
    return diskUsageIn(await this.#unary(ControlService.DiskUsage, diskUsageOut(req), opts.signal), req.verbose ?? false);
  }

  async prune(req: PruneRequest, opts: CallOptions): Promise<PruneResult> {
    const records: PrunedRecord[] = [];
    let summary: PruneResult | undefined;
    await this.#serverStream(ControlService.Prune, pruneOut(req), opts.signal, (m) => {
      if (m.record) records.push(prunedRecordIn(m.record));
      else if (m.summary) {
        const s = m.summary;
        summary = { records, snapshotsRemoved: [...(s.snapshotsRemoved ?? [])], blobsRemoved: [...(s.blobsRemoved ?? [])], bytesFreed: s.bytesFreed ?? 0 };
      }
    });
    if (!summary) throw new TsbuildError('DAEMON_PROTOCOL', 'the Prune stream ended without its summary');
    return summary;
  }

  async check(req: CheckRequest, opts: CallOptions): Promise<CheckResult> {
    return checkResultFromWire(await this.#unary(ControlService.Check, { deep: req.deep ?? false }, opts.signal));
  }

  async repair(req: CheckRequest, opts: CallOptions): Promise<RepairReport> {
    return repairReportFromWire(await this.#unary(ControlService.Repair, { deep: req.deep ?? false }, opts.signal));
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#channel.close();
    }
    return Promise.resolve();
  }

  /** The client-side tools (parse, llb, login, logout): an embedded client that never opens a data root, loaded on first use. */
  static async #local(): Promise<Client> {
    const { EmbeddedClient } = await import('./embedded.js');
    return new EmbeddedClient({ root: '' });
  }
}
