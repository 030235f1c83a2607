/**
 * The Op message (and the Definition's metadata and source entries) written by hand with
 * ProtoWriter: field for field what protobufjs' generated `encode` writes for the same object —
 * fields in number order, proto3 defaults omitted, messages and oneof members written whenever
 * they are non-null, unknown fields appended last. The ExecOp body is in exec-op-encoding.ts. It
 * exists because marshalling spends most of its time encoding; test/llb/op-encoding.test.ts
 * checks it against `tsbuild.llb.*.encode` on every op shape the builder makes and on random ops,
 * and `TSBUILD_VERIFY_LLB_ENCODING=1` makes every marshal check itself (see marshal.ts).
 *
 * When proto/llb.proto changes, this file (or exec-op-encoding.ts) must change with it (the
 * random-op test fails until it does, as it fills every field of the schema).
 */
import { writeExecOp } from './exec-op-encoding.js';
import type { tsbuild } from './gen/llb.js';
import { largeMessage, message, messages } from './proto-message-fields.js';
import { LEN, VARINT } from './proto-wire-writer.js';
import type { ProtoWriter } from './proto-writer.js';
import type { LLBPlatform, OpConstraints } from './types.js';

type OpProps = tsbuild.llb.Op.$Properties;

// ---- Op ----------------------------------------------------------------------------------------

/** Writes the fields of an Op message (not length-delimited). */
export function writeOp(w: ProtoWriter, op: OpProps): void {
  messages(w, 1, op.inputs, writeInput);
  writeOpBody(w, op);
  message(w, 10, op.platform, writePlatform);
  w.unknowns(op.$unknowns);
}

/** The oneof body of an Op (fields 2..5). */
export function writeOpBody(w: ProtoWriter, body: Pick<OpProps, 'exec' | 'source' | 'file' | 'merge'>): void {
  largeMessage(w, 2, body.exec, writeExecOp);
  message(w, 3, body.source, writeSourceOp);
  message(w, 4, body.file, writeFileOp);
  message(w, 5, body.merge, writeMergeOp);
}

export function writeInput(w: ProtoWriter, m: tsbuild.llb.Input.$Properties): void {
  w.stringField(1, m.digest);
  w.int32Field(2, m.index);
  w.unknowns(m.$unknowns);
}

/** An Input written from its parts (the marshaller has no Input objects). */
export function writeInputField(w: ProtoWriter, digest: string, index: number): void {
  w.tag(1, LEN);
  const at = w.fork();
  w.stringField(1, digest);
  w.int32Field(2, index);
  w.ldelim(at);
}

export function writePlatform(w: ProtoWriter, m: tsbuild.llb.Platform.$Properties): void {
  w.stringField(1, m.architecture);
  w.stringField(2, m.os);
  w.stringField(3, m.variant);
  w.unknowns(m.$unknowns);
}

/** Bytes of an Input's digest field: tag, length and `sha256:` + 64 hex digits. */
const INPUT_DIGEST_FIELD = 2 + 7 + 64;

/** An Input of the op whose digest is `sha256:` + `hex` (the marshaller keeps bare hex digests). */
export function writeInputFieldSha256(w: ProtoWriter, hex: string, index: number): void {
  if (index >= 0 && index < 128) {
    // The usual case (the marshaller writes one per op input): the length is known, one byte,
    // so the Input is written without fork and ldelim.
    w.tag(1, LEN);
    w.uint32(index === 0 ? INPUT_DIGEST_FIELD : INPUT_DIGEST_FIELD + 2);
    w.sha256Field(1, hex);
    w.int32Field(2, index);
    return;
  }
  w.tag(1, LEN);
  const at = w.fork();
  w.sha256Field(1, hex);
  w.int32Field(2, index);
  w.ldelim(at);
}

/** The platform field from a builder platform (an absent variant is the empty string). */
export function writePlatformField(w: ProtoWriter, p: LLBPlatform): void {
  w.tag(10, LEN);
  const at = w.fork();
  w.stringField(1, p.architecture);
  w.stringField(2, p.os);
  w.stringField(3, p.variant);
  w.ldelim(at);
}

// ---- SourceOp ----------------------------------------------------------------------------------

function writeSourceOp(w: ProtoWriter, m: tsbuild.llb.SourceOp.$Properties): void {
  w.stringField(1, m.identifier);
  messages(w, 2, m.attrs, writeAttr);
  w.unknowns(m.$unknowns);
}

function writeAttr(w: ProtoWriter, m: tsbuild.llb.Attr.$Properties): void {
  w.stringField(1, m.key);
  w.stringField(2, m.value);
  w.unknowns(m.$unknowns);
}

// ---- FileOp ------------------------------------------------------------------------------------

function writeFileOp(w: ProtoWriter, m: tsbuild.llb.FileOp.$Properties): void {
  messages(w, 1, m.actions, writeFileAction);
  w.unknowns(m.$unknowns);
}

function writeFileAction(w: ProtoWriter, m: tsbuild.llb.FileAction.$Properties): void {
  w.int32Field(1, m.input);
  w.int32Field(2, m.secondaryInput);
  w.int32Field(3, m.output);
  message(w, 4, m.copy, writeCopy);
  message(w, 5, m.mkfile, writeMkFile);
  message(w, 6, m.mkdir, writeMkDir);
  message(w, 7, m.rm, writeRm);
  message(w, 8, m.symlink, writeSymlink);
  w.unknowns(m.$unknowns);
}

function writeChownOpt(w: ProtoWriter, m: tsbuild.llb.ChownOpt.$Properties): void {
  message(w, 1, m.user, writeUserOpt);
  message(w, 2, m.group, writeUserOpt);
  w.unknowns(m.$unknowns);
}

function writeUserOpt(w: ProtoWriter, m: tsbuild.llb.UserOpt.$Properties): void {
  message(w, 1, m.byName, writeNamedUserOpt);
  // A oneof member has presence: 0 is written.
  if (m.byId != null) {
    w.tag(2, VARINT);
    w.uint32(m.byId);
  }
  w.unknowns(m.$unknowns);
}

function writeNamedUserOpt(w: ProtoWriter, m: tsbuild.llb.NamedUserOpt.$Properties): void {
  w.stringField(1, m.name);
  w.int32Field(2, m.input);
  w.unknowns(m.$unknowns);
}

function writeCopy(w: ProtoWriter, m: tsbuild.llb.FileActionCopy.$Properties): void {
  w.stringField(1, m.src);
  w.stringField(2, m.dest);
  message(w, 3, m.owner, writeChownOpt);
  w.int32Field(4, m.mode);
  w.stringField(5, m.modeStr);
  w.boolField(6, m.followSymlink);
  w.boolField(7, m.dirCopyContents);
  w.boolField(8, m.attemptUnpackDockerCompatibility);
  w.boolField(9, m.createDestPath);
  w.boolField(10, m.allowWildcard);
  w.boolField(11, m.allowEmptyWildcard);
  w.int64Field(12, m.timestamp);
  w.stringsField(13, m.includePatterns);
  w.stringsField(14, m.excludePatterns);
  w.boolField(15, m.alwaysReplaceExistingDestPaths);
  w.boolField(16, m.parents);
  w.boolField(17, m.unpackSet);
  w.boolField(18, m.unpack);
  w.stringsField(19, m.requiredPaths);
  w.unknowns(m.$unknowns);
}

function writeMkFile(w: ProtoWriter, m: tsbuild.llb.FileActionMkFile.$Properties): void {
  w.stringField(1, m.path);
  w.int32Field(2, m.mode);
  w.bytesField(3, m.data);
  message(w, 4, m.owner, writeChownOpt);
  w.int64Field(5, m.timestamp);
  w.unknowns(m.$unknowns);
}

function writeMkDir(w: ProtoWriter, m: tsbuild.llb.FileActionMkDir.$Properties): void {
  w.stringField(1, m.path);
  w.int32Field(2, m.mode);
  w.boolField(3, m.makeParents);
  message(w, 4, m.owner, writeChownOpt);
  w.int64Field(5, m.timestamp);
  w.unknowns(m.$unknowns);
}

function writeRm(w: ProtoWriter, m: tsbuild.llb.FileActionRm.$Properties): void {
  w.stringField(1, m.path);
  w.boolField(2, m.allowNotFound);
  w.boolField(3, m.allowWildcard);
  w.unknowns(m.$unknowns);
}

function writeSymlink(w: ProtoWriter, m: tsbuild.llb.FileActionSymlink.$Properties): void {
  w.stringField(1, m.oldpath);
  w.stringField(2, m.newpath);
  message(w, 3, m.owner, writeChownOpt);
  w.int64Field(4, m.timestamp);
  w.unknowns(m.$unknowns);
}

// ---- MergeOp -----------------------------------------------------------------------------------

function writeMergeOp(w: ProtoWriter, m: tsbuild.llb.MergeOp.$Properties): void {
  messages(w, 1, m.inputs, writeMergeInput);
  w.unknowns(m.$unknowns);
}

function writeMergeInput(w: ProtoWriter, m: tsbuild.llb.MergeInput.$Properties): void {
  w.int32Field(1, m.input);
  w.unknowns(m.$unknowns);
}

// ---- Definition parts --------------------------------------------------------------------------

/**
 * The fields of an OpMetadataEntry for `digest`, from builder constraints: the same bytes as
 * `OpMetadataEntry.encode({ digest, metadata })` with every OpMetadata field filled from the
 * constraints (defaults for absent ones), as the marshaller has always built it.
 */
export function writeMetadataEntry(w: ProtoWriter, digest: string, c: OpConstraints): void {
  w.stringField(1, digest);
  writeMetadataField(w, c);
}

/** `writeMetadataEntry` for the digest `sha256:` + `hex`. */
export function writeMetadataEntrySha256(w: ProtoWriter, hex: string, c: OpConstraints): void {
  w.sha256Field(1, hex);
  writeMetadataField(w, c);
}

/** The OpMetadataEntry's `metadata` field (tag 2) from builder constraints. */
export function writeMetadataField(w: ProtoWriter, c: OpConstraints): void {
  w.tag(2, LEN);
  const at = w.fork();
  w.boolField(1, c.ignoreCache ?? false);
  w.stringField(2, c.description ?? '');
  w.stringField(3, c.stage ?? '');
  w.int32Field(4, c.step ?? 0);
  w.int32Field(5, c.steps ?? 0);
  for (const l of c.locations ?? []) {
    w.tag(6, LEN);
    const lat = w.fork();
    w.int32Field(1, l.sourceIndex);
    w.int32Field(2, l.startLine);
    w.int32Field(3, l.endLine);
    w.int32Field(4, l.startColumn);
    w.ldelim(lat);
  }
  w.ldelim(at);
}

/** The fields of a Source message. */
export function writeSource(w: ProtoWriter, s: { readonly filename: string; readonly data: Uint8Array }): void {
  w.stringField(1, s.filename);
  w.bytesField(2, s.data);
}
