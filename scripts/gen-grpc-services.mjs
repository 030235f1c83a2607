// Writes the `<name>-grpc.ts` half of a generated protobuf module (see gen-proto.mjs): for each
// service of a .proto, a @grpc/grpc-js service definition (path, streaming flags, serializers that
// call the static protobufjs code), and the file's encoded FileDescriptorProto for server
// reflection. The proto is parsed with protobufjs at generation time only; nothing parses protos
// when the daemon or the CLI starts.
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { join } from 'node:path';

/** `.tsbuild.control.v1.SolveRequest` -> `tsbuild.control.v1.SolveRequest`. */
const typeName = (t) => t.fullName.replace(/^\./, '');

function lowerFirst(s) {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** Base64 of `bytes`, cut into lines a diff can show. */
function base64Lines(bytes) {
  const b64 = Buffer.from(bytes).toString('base64');
  const lines = [];
  for (let i = 0; i < b64.length; i += 96) lines.push(`  '${b64.slice(i, i + 96)}'`);
  return lines.join(' +\n');
}

/** protoc's name for a map field's entry type: `build_args` -> `BuildArgsEntry` (protobufjs says `Build_args`). */
function renameMapEntries(msgs) {
  for (const m of msgs ?? []) {
    for (const nested of m.nestedType ?? []) {
      if (!nested.options?.mapEntry) continue;
      const field = (m.field ?? []).find((f) => f.typeName === nested.name);
      if (!field) continue;
      const camel = field.name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
      nested.name = `${camel.charAt(0).toUpperCase()}${camel.slice(1)}Entry`;
      field.typeName = nested.name;
    }
    renameMapEntries(m.nestedType);
  }
}

/**
 * protobufjs writes type references as they appear in the .proto (`SourceLocation`, and map entry
 * types as `BuildArgsEntry`); reflection clients are happiest with fully-qualified names
 * (`.tsbuild.control.v1.SourceLocation`), so each is resolved with protobuf's scoping rules
 * (innermost scope first).
 */
function qualifyTypeNames(file) {
  renameMapEntries(file.messageType);
  const known = new Set();
  const collect = (scope, msgs, enums) => {
    for (const e of enums ?? []) known.add(`${scope}.${e.name}`);
    for (const m of msgs ?? []) {
      known.add(`${scope}.${m.name}`);
      collect(`${scope}.${m.name}`, m.nestedType, m.enumType);
    }
  };
  const pkg = file.package ? `.${file.package}` : '';
  collect(pkg, file.messageType, file.enumType);
  const resolve = (scope, name) => {
    if (!name || name.startsWith('.')) return name;
    for (let s = scope; ; s = s.slice(0, s.lastIndexOf('.'))) {
      if (known.has(`${s}.${name}`)) return `${s}.${name}`;
      if (s === '') throw new Error(`${file.name}: cannot resolve type ${name} from ${scope}`);
    }
  };
  const fix = (scope, msgs) => {
    for (const m of msgs ?? []) {
      const inner = `${scope}.${m.name}`;
      for (const f of m.field ?? []) if (f.typeName) f.typeName = resolve(inner, f.typeName);
      fix(inner, m.nestedType);
    }
  };
  fix(pkg, file.messageType);
  for (const svc of file.service ?? []) {
    for (const m of svc.method ?? []) {
      m.inputType = resolve(pkg, m.inputType);
      m.outputType = resolve(pkg, m.outputType);
    }
  }
}

/**
 * @param {{ protoDir: string, proto: string, genModule: string }} o
 *   proto: path under protoDir (also the descriptor's file name); genModule: the static module to import.
 */
export function grpcServicesSource({ protoDir, proto, genModule }) {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(protoDir, target);
  root.loadSync(proto, { keepCase: true });
  root.resolveAll();

  const set = root.toDescriptor('proto3');
  if (set.file.length !== 1) throw new Error(`${proto}: expected one package per file, got ${set.file.length}`);
  const file = set.file[0];
  file.name = proto;
  qualifyTypeNames(file);
  const fileBytes = descriptor.FileDescriptorProto.encode(file).finish();

  const services = [];
  const visit = (ns) => {
    for (const o of ns.nestedArray) {
      if (o instanceof protobuf.Service) services.push(o);
      else if (o instanceof protobuf.Namespace) visit(o);
    }
  };
  visit(root);
  const top = typeName(root.nestedArray[0]).split('.')[0];

  const out = [];
  out.push(`import { ${top} } from '${genModule}';`);
  out.push('');
  out.push('/** A static message type of the generated module. */');
  out.push('interface Codec<P, D> {');
  out.push('  encode(message: P): { finish(): Uint8Array };');
  out.push('  decode(bytes: Uint8Array): D;');
  out.push('}');
  out.push('');
  out.push('function toBuffer(bytes: Uint8Array): Buffer {');
  out.push('  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);');
  out.push('}');
  out.push('');
  out.push('/**');
  out.push(' * One method: callers pass plain objects (`Req`, `Res`: the `$Properties` shapes) and receive decoded');
  out.push(' * messages (`ReqOut`, `ResOut`, whose oneofs are discriminated unions). Structurally a');
  out.push(" * @grpc/grpc-js MethodDefinition, so a service object goes to Server.addService as it is.");
  out.push(' */');
  out.push('export interface GrpcMethod<Req, ReqOut, Res, ResOut, RS extends boolean = boolean, SS extends boolean = boolean> {');
  out.push('  readonly path: string;');
  out.push('  readonly requestStream: RS;');
  out.push('  readonly responseStream: SS;');
  out.push('  readonly originalName: string;');
  out.push('  readonly requestSerialize: (message: Req) => Buffer;');
  out.push('  readonly requestDeserialize: (bytes: Buffer) => ReqOut;');
  out.push('  readonly responseSerialize: (message: Res) => Buffer;');
  out.push('  readonly responseDeserialize: (bytes: Buffer) => ResOut;');
  out.push('}');
  out.push('');
  out.push('function method<Req, ReqOut, Res, ResOut, RS extends boolean, SS extends boolean>(');
  out.push('  path: string, requestStream: RS, responseStream: SS, req: () => Codec<Req, ReqOut>, res: () => Codec<Res, ResOut>, originalName: string,');
  out.push('): GrpcMethod<Req, ReqOut, Res, ResOut, RS, SS> {');
  out.push('  return {');
  out.push('    path, requestStream, responseStream, originalName,');
  out.push('    requestSerialize: (m: Req) => toBuffer(req().encode(m).finish()),');
  out.push('    requestDeserialize: (b: Buffer) => req().decode(b),');
  out.push('    responseSerialize: (m: Res) => toBuffer(res().encode(m).finish()),');
  out.push('    responseDeserialize: (b: Buffer) => res().decode(b),');
  out.push('  };');
  out.push('}');
  for (const svc of services) {
    const full = typeName(svc);
    out.push('');
    out.push(`/** ${full}: the methods as @grpc/grpc-js service definitions (Server.addService, makeGenericClientConstructor). */`);
    out.push(`export const ${svc.name}Service = {`);
    for (const m of svc.methodsArray) {
      const req = typeName(m.resolvedRequestType);
      const res = typeName(m.resolvedResponseType);
      // A thunk: the generated module builds each message type on first use (gen-proto.mjs).
      const codec = (t) => `() => ${t} as Codec<${t}.$Properties, ${t} & ${t}.$Shape>`;
      out.push(`  ${m.name}: method('/${full}/${m.name}', ${Boolean(m.requestStream)}, ${Boolean(m.responseStream)},`);
      out.push(`    ${codec(req)},`);
      out.push(`    ${codec(res)}, '${lowerFirst(m.name)}'),`);
    }
    out.push('} as const;');
  }
  out.push('');
  out.push(`/** The encoded google.protobuf.FileDescriptorProto of ${proto}, for server reflection. */`);
  out.push('export const fileDescriptorProto: Buffer = Buffer.from(');
  out.push(`${base64Lines(fileBytes)}, 'base64');`);
  out.push('');
  return out.join('\n');
}
