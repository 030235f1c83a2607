/**
 * The in-process Client: an Engine on the data root, in this process. A thin pass-through: the
 * engine's methods take and return the contract's shapes (test/client/contract-types.test.ts keeps
 * the two identical), so every request, option object and answer is handed over as it is.
 *
 * `open()` opens the engine at once; a client made with `new` opens it on the first call that needs
 * one, so `parse`, `llb`, `login` and `logout` (static engine operations) never touch the data root.
 * Errors are the
 * engine's own (with their stacks, for --debug); a remote client rebuilds them from WireErrors.
 */
import { Engine } from '../engine/index.js';
import { TsbuildError } from '../util/errors.js';
import type {
  BuildHistoryRequest, PastBuild,
  AttachCallOptions, AttachRequest, RunningBuildSummary, BuildCallOptions, BuildRequest, BuildResult, CallOptions, CheckRequest, CheckResult, Client, DiskUsage, DiskUsageRequest, EngineInfo,
  HistoryRow, ImageInspect, ImageRecord, ImageRef, ImageSummary, ImportRequest, InputCallOptions, LlbRequest, LlbResult, LoadRequest, OutputCallOptions, SaveRequest, SavedImage,
  LoadedImage, LoginRequest, LoginResult, LogoutRequest, LogoutResult, ParseRequest, ParseResult, PruneRequest, PruneResult, PullRequest,
  PullSummary, PushRequest, PushSummary, RemoveImageRequest, RemovedImage, RepairReport, TagImageRequest, TransferCallOptions,
} from './types.js';

export interface EmbeddedClientOptions {
  /** The data root (`--root`). */
  readonly root: string;
  /** Steps running at once. Default: the number of cores. */
  readonly maxParallelism?: number;
  /** Skip the root/overlay/runc checks and crash recovery (calls that only read metadata). Default false. */
  readonly skipPreflight?: boolean;
  /**
   * Recover from processes that died on this data root when the engine opens. Default true;
   * `cache check` turns it off to report what it finds without changing it.
   */
  readonly recover?: boolean;
  /** Aborts opening the engine. */
  readonly signal?: AbortSignal;
}

export class EmbeddedClient implements Client {
  readonly #opts: EmbeddedClientOptions;
  #engine: Promise<Engine> | undefined;
  #closed = false;

  /** A client that opens the engine on the first call needing one. */
  constructor(opts: EmbeddedClientOptions) {
    this.#opts = opts;
  }

  /**
   * A client with its engine open: preflight and crash recovery done, their errors thrown here
   * rather than from the first call (before a command starts drawing progress).
   */
  static async open(opts: EmbeddedClientOptions): Promise<EmbeddedClient> {
    const client = new EmbeddedClient(opts);
    await client.#open();
    return client;
  }

  #open(): Promise<Engine> {
    if (this.#closed) return Promise.reject(new TsbuildError('CLIENT_CLOSED', 'the client is closed'));
    return (this.#engine ??= Engine.open(this.#opts));
  }

  async info(opts: CallOptions): Promise<EngineInfo> {
    return (await this.#open()).info(opts);
  }

  async build(req: BuildRequest, opts: BuildCallOptions): Promise<BuildResult> {
    return (await this.#open()).build(req, opts);
  }

  /** The builds of this process belong to their callers; no other client can reach them (nor attach). */
  listBuilds(_opts: CallOptions): Promise<RunningBuildSummary[]> {
    return Promise.resolve([]);
  }

  attach(req: AttachRequest, _opts: AttachCallOptions): Promise<BuildResult> {
    return Promise.reject(new TsbuildError('BUILD_NOT_FOUND', `no running build has ref ${JSON.stringify(req.ref)}`));
  }

  parse(req: ParseRequest, opts: CallOptions): Promise<ParseResult> {
    return Engine.parse(req, opts);
  }

  llb(req: LlbRequest, opts: CallOptions): Promise<LlbResult> {
    return Engine.llb(req, opts);
  }

  async listImages(opts: CallOptions): Promise<ImageSummary[]> {
    return (await this.#open()).listImages(opts);
  }

  async removeImage(req: RemoveImageRequest, opts: CallOptions): Promise<RemovedImage> {
    return (await this.#open()).removeImage(req, opts);
  }

  async tagImage(req: TagImageRequest, opts: CallOptions): Promise<ImageRecord> {
    return (await this.#open()).tagImage(req, opts);
  }

  async history(req: ImageRef, opts: CallOptions): Promise<HistoryRow[]> {
    return (await this.#open()).history(req, opts);
  }

  async inspect(req: ImageRef, opts: CallOptions): Promise<ImageInspect> {
    return (await this.#open()).inspect(req, opts);
  }

  async importImage(req: ImportRequest, opts: InputCallOptions): Promise<ImageRecord> {
    return (await this.#open()).importImage(req, opts);
  }

  async loadImages(req: LoadRequest, opts: InputCallOptions): Promise<LoadedImage[]> {
    return (await this.#open()).loadImages(req, opts);
  }

  async saveImages(req: SaveRequest, opts: OutputCallOptions): Promise<SavedImage[]> {
    return (await this.#open()).saveImages(req, opts);
  }

  async pull(req: PullRequest, opts: TransferCallOptions): Promise<PullSummary> {
    return (await this.#open()).pull(req, opts);
  }

  async push(req: PushRequest, opts: TransferCallOptions): Promise<PushSummary> {
    return (await this.#open()).push(req, opts);
  }

  login(req: LoginRequest, opts: CallOptions): Promise<LoginResult> {
    return Engine.login(req, opts);
  }

  logout(req: LogoutRequest, opts: CallOptions): Promise<LogoutResult> {
    return Engine.logout(req, opts);
  }

  async buildHistory(req: BuildHistoryRequest, opts: CallOptions): Promise<PastBuild[]> {
    return (await this.#open()).buildHistory(req, opts);
  }

  async diskUsage(req: DiskUsageRequest, opts: CallOptions): Promise<DiskUsage> {
    return (await this.#open()).diskUsage(req, opts);
  }

  async prune(req: PruneRequest, opts: CallOptions): Promise<PruneResult> {
    return (await this.#open()).prune(req, opts);
  }

  async check(req: CheckRequest, opts: CallOptions): Promise<CheckResult> {
    return (await this.#open()).check(req, opts);
  }

  async repair(req: CheckRequest, opts: CallOptions): Promise<RepairReport> {
    return (await this.#open()).repair(req, opts);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const opening = this.#engine;
    this.#engine = undefined;
    const engine = await opening?.catch(() => undefined);
    await engine?.close();
  }
}
