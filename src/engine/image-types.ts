/** The engine's image API (images, inspect, import/load/save, pull, push); see src/engine/types.ts. */
import type { InspectConfig } from '../oci/types.js';
import type { TransferOutcome } from '../registry/types.js';
import type { ByteSink, CallOptions, RegistryAccess } from './call-types.js';

export interface ImageRecord {
  readonly name: string;
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly mediaType: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ImageSummary {
  readonly name?: string;
  readonly repository: string;
  readonly tag: string;
  readonly id: string;
  readonly manifestDigest: string;
  readonly created?: string;
  readonly size: number;
  /** The image's RepoDigest digest in this row's repository (after a push or pull), as docker's DIGEST column. */
  readonly digest?: string;
  /** A multi-platform image's platforms (`linux/amd64`…), in index order; absent for one manifest. */
  readonly platforms?: readonly string[];
}

export interface ImageRef {
  readonly name: string;
}

export interface RemoveImageRequest {
  readonly name: string;
  readonly force?: boolean;
}

export interface RemovedImage {
  readonly untagged: readonly string[];
  readonly deleted: readonly string[];
}

export interface TagImageRequest {
  readonly source: string;
  readonly target: string;
}

export interface HistoryRow {
  readonly id: string;
  readonly created?: string;
  readonly createdBy: string;
  readonly size: number;
  readonly comment: string;
  readonly emptyLayer: boolean;
  readonly layer?: string;
}

export interface GraphDriverData {
  readonly LowerDir?: string;
  readonly UpperDir: string;
  readonly MergedDir: string;
  readonly WorkDir: string;
}

export interface ImageInspect {
  readonly Id: string;
  readonly RepoTags: readonly string[];
  readonly RepoDigests: readonly string[];
  readonly Parent: string;
  readonly Comment: string;
  readonly Created?: string;
  readonly DockerVersion: string;
  readonly Author: string;
  readonly Config: InspectConfig;
  readonly Architecture: string;
  readonly Variant?: string;
  readonly Os: string;
  readonly Size: number;
  readonly VirtualSize: number;
  readonly GraphDriver: { readonly Name: 'overlay2'; readonly Data: GraphDriverData | null };
  readonly RootFS: { readonly Type: 'layers'; readonly Layers: readonly string[] };
  readonly Metadata: { readonly LastTagTime: string };
  /** A multi-platform image's platforms; the other fields describe the first (linux/amd64 if there). */
  readonly Platforms?: readonly string[];
}

export interface ImportRequest {
  readonly source: string;
  readonly name: string;
  readonly message?: string;
  /** `linux/arm64`; default the host's. */
  readonly platform?: string;
}

export interface LoadRequest {
  readonly source: string;
}

export interface LoadedImage {
  readonly name?: string;
  readonly manifestDigest: string;
  readonly configDigest: string;
}

export interface SaveRequest {
  readonly names: readonly string[];
}

export interface SavedImage {
  readonly name?: string;
  readonly manifestDigest: string;
  readonly configDigest: string;
}

export interface OutputOptions extends CallOptions {
  readonly output: ByteSink;
}

export interface PullRequest {
  readonly ref: string;
  readonly platform?: string;
  readonly registry?: RegistryAccess;
}

export interface PulledLayer {
  readonly digest: string;
  readonly size: number;
  readonly outcome: 'downloaded' | 'present';
}

export interface PullSummary {
  readonly name: string;
  readonly digest: string;
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly layers: readonly PulledLayer[];
  readonly upToDate: boolean;
}

export interface PushRequest {
  readonly name: string;
  readonly registry?: RegistryAccess;
}

export interface PushSummary {
  readonly name: string;
  readonly digest: string;
  readonly size: number;
  readonly blobs: readonly { readonly digest: string; readonly outcome: TransferOutcome }[];
}
