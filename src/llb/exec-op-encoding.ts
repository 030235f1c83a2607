/**
 * The ExecOp message written by hand with ProtoWriter, by the rules of op-encoding.ts (protobufjs'
 * generated `encode`, field for field): its Meta (args, env, cwd, user, …), mounts and their
 * options, and secret env. Apart from the other ops because it is the largest body and has a
 * second way in: `writeExecBody` writes the same bytes from the flat record a RUN step keeps
 * (exec.ts), without the Meta and ExecOp objects the step would make only to have them encoded.
 *
 * When proto/llb.proto changes, this file must change with it, as op-encoding.ts does.
 */
import type { tsbuild } from './gen/llb.js';
import { largeMessage, message, messages } from './proto-message-fields.js';
import { LEN } from './proto-wire-writer.js';
import type { ProtoWriter } from './proto-writer.js';

/** Writes the fields of an ExecOp message (the Op body's `exec`). */
export function writeExecOp(w: ProtoWriter, m: tsbuild.llb.ExecOp.$Properties): void {
  largeMessage(w, 1, m.meta, writeMeta);
  writeExecTail(w, m.mounts, m.network, m.security, m.secretenv);
  w.unknowns(m.$unknowns);
}

/** ExecOp fields 2..5 (after `meta`). */
function writeExecTail(
  w: ProtoWriter, mounts: readonly tsbuild.llb.Mount.$Properties[] | null | undefined, network: number | null | undefined,
  security: number | null | undefined, secretenv: readonly tsbuild.llb.SecretEnv.$Properties[] | null | undefined,
): void {
  messages(w, 2, mounts, writeMount);
  w.int32Field(3, network);
  w.int32Field(4, security);
  messages(w, 5, secretenv, writeSecretEnv);
}

function writeMeta(w: ProtoWriter, m: tsbuild.llb.Meta.$Properties): void {
  writeMetaFields(w, m.args, m.env, m.cwd, m.user, m.hostname, m.extraHosts, m.shell, m.proxyEnv, m.ulimit);
  w.unknowns(m.$unknowns);
}

function writeMetaFields(
  w: ProtoWriter, args: readonly string[] | null | undefined, env: readonly string[] | null | undefined, cwd: string | null | undefined,
  user: string | null | undefined, hostname: string | null | undefined, extraHosts: readonly tsbuild.llb.HostIP.$Properties[] | null | undefined,
  shell: readonly string[] | null | undefined, proxyEnv: tsbuild.llb.ProxyEnv.$Properties | null | undefined,
  ulimit: readonly tsbuild.llb.Ulimit.$Properties[] | null | undefined,
): void {
  w.stringsField(1, args);
  w.sharedStringsField(2, env);
  w.stringField(3, cwd);
  w.stringField(4, user);
  w.stringField(5, hostname);
  messages(w, 6, extraHosts, writeHostIP);
  w.stringsField(7, shell);
  message(w, 8, proxyEnv, writeProxyEnv);
  messages(w, 9, ulimit, writeUlimit);
}

function writeUlimit(w: ProtoWriter, m: tsbuild.llb.Ulimit.$Properties): void {
  w.stringField(1, m.name);
  w.int64Field(2, m.soft);
  w.int64Field(3, m.hard);
  w.unknowns(m.$unknowns);
}

/** The fields of an exec op body that the builder sets (exec.ts), as one flat record. */
export interface ExecBodyFields {
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  readonly hostname: string;
  readonly extraHosts: readonly tsbuild.llb.HostIP.$Properties[];
  readonly proxyEnv: tsbuild.llb.ProxyEnv.$Properties | null;
  readonly ulimit: readonly tsbuild.llb.Ulimit.$Properties[];
  readonly mounts: readonly tsbuild.llb.Mount.$Properties[];
  readonly network: tsbuild.llb.NetMode;
  readonly security: tsbuild.llb.SecurityMode;
  readonly secretenv: readonly tsbuild.llb.SecretEnv.$Properties[];
}

/**
 * The Op body `{ exec: { meta: { args, env, cwd, user, hostname, extraHosts, proxyEnv }, mounts,
 * network, security, secretenv } }` written from one flat record: the same bytes as `writeOpBody`
 * of that object, without the Meta, ExecOp and body objects a RUN step made only to be encoded.
 */
export function writeExecBody(w: ProtoWriter, b: ExecBodyFields): void {
  w.tag(2, LEN);
  const exec = w.fork2();
  w.tag(1, LEN);
  const meta = w.fork2();
  writeMetaFields(w, b.args, b.env, b.cwd, b.user, b.hostname, b.extraHosts, undefined, b.proxyEnv, b.ulimit);
  w.ldelim2(meta);
  writeExecTail(w, b.mounts, b.network, b.security, b.secretenv);
  w.ldelim2(exec);
}

function writeProxyEnv(w: ProtoWriter, m: tsbuild.llb.ProxyEnv.$Properties): void {
  w.stringField(1, m.httpProxy);
  w.stringField(2, m.httpsProxy);
  w.stringField(3, m.ftpProxy);
  w.stringField(4, m.noProxy);
  w.stringField(5, m.allProxy);
  w.unknowns(m.$unknowns);
}

function writeHostIP(w: ProtoWriter, m: tsbuild.llb.HostIP.$Properties): void {
  w.stringField(1, m.host);
  w.stringField(2, m.ip);
  w.unknowns(m.$unknowns);
}

function writeMount(w: ProtoWriter, m: tsbuild.llb.Mount.$Properties): void {
  w.int32Field(1, m.input);
  w.stringField(2, m.selector);
  w.stringField(3, m.dest);
  w.int32Field(4, m.output);
  w.boolField(5, m.readonly);
  w.int32Field(6, m.mountType);
  message(w, 19, m.tmpfsOpt, writeTmpfsOpt);
  message(w, 20, m.cacheOpt, writeCacheOpt);
  message(w, 21, m.secretOpt, writeSecretOpt);
  message(w, 22, m.sshOpt, writeSSHOpt);
  w.unknowns(m.$unknowns);
}

function writeTmpfsOpt(w: ProtoWriter, m: tsbuild.llb.TmpfsOpt.$Properties): void {
  w.int64Field(1, m.size);
  w.unknowns(m.$unknowns);
}

function writeCacheOpt(w: ProtoWriter, m: tsbuild.llb.CacheOpt.$Properties): void {
  w.stringField(1, m.id);
  w.int32Field(2, m.sharing);
  w.uint32Field(3, m.mode);
  w.boolField(4, m.hasMode);
  w.uint32Field(5, m.uid);
  w.boolField(6, m.hasUid);
  w.uint32Field(7, m.gid);
  w.boolField(8, m.hasGid);
  w.unknowns(m.$unknowns);
}

function writeSecretOpt(w: ProtoWriter, m: tsbuild.llb.SecretOpt.$Properties | tsbuild.llb.SSHOpt.$Properties): void {
  w.stringField(1, m.id);
  w.uint32Field(2, m.uid);
  w.uint32Field(3, m.gid);
  w.uint32Field(4, m.mode);
  w.boolField(5, m.optional);
  w.unknowns(m.$unknowns);
}

/** SSHOpt has SecretOpt's fields, numbers and types. */
const writeSSHOpt = writeSecretOpt;

function writeSecretEnv(w: ProtoWriter, m: tsbuild.llb.SecretEnv.$Properties): void {
  w.stringField(1, m.id);
  w.stringField(2, m.name);
  w.boolField(3, m.optional);
  w.unknowns(m.$unknowns);
}
