/**
 * The protobufjs runtime the generated LLB code imports (scripts/gen-proto.mjs points its
 * `--dependency` here). int64 fields decode to plain numbers, never `Long` objects: every int64 in
 * llb.proto (sizes, Unix-second timestamps) is far below 2^53, and a Long would silently break
 * truthiness and arithmetic in the worker.
 */
import $protobuf from 'protobufjs/minimal.js';

($protobuf.util as { Long: unknown }).Long = undefined;
$protobuf.configure();

export default $protobuf;
