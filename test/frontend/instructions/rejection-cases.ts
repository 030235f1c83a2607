/**
 * Dockerfiles Docker rejects, with the error tsbuild must give: stable code, message, location.
 * Used by the in-process tests and, unchanged, by the real-CLI tests.
 */
export interface RejectionCase {
  readonly name: string;
  readonly dockerfile: string;
  readonly code: string;
  /** Substring of the message. */
  readonly message: string;
  /** `line:column` of the error. */
  readonly at: string;
  readonly args?: readonly string[];
}

export const REJECTIONS: readonly RejectionCase[] = [
  { name: 'unknown instruction, with a suggestion', dockerfile: 'FORM alpine\n', code: 'DOCKERFILE_UNKNOWN_INSTRUCTION', message: 'unknown instruction: FORM (did you mean FROM?)', at: '1:1' },
  { name: 'unknown instruction, no close match', dockerfile: 'FROM a\nFROBNICATE x\n', code: 'DOCKERFILE_UNKNOWN_INSTRUCTION', message: 'unknown instruction: FROBNICATE', at: '2:1' },
  { name: 'unknown flag names the closest one', dockerfile: 'FROM a\nCOPY --chmodd=0644 a b\n', code: 'DOCKERFILE_UNKNOWN_FLAG', message: 'unknown flag --chmodd for COPY (did you mean --chmod?)', at: '2:6' },
  { name: 'flag on an instruction without flags', dockerfile: 'FROM a\nENV --foo=1 A=b\n', code: 'DOCKERFILE_UNKNOWN_FLAG', message: 'unknown flag --foo for ENV', at: '2:5' },
  { name: 'flag of another instruction', dockerfile: 'FROM a\nADD --from=x a b\n', code: 'DOCKERFILE_UNKNOWN_FLAG', message: 'unknown flag --from for ADD', at: '2:5' },
  { name: 'string flag without a value', dockerfile: 'FROM a\nCOPY --from a b\n', code: 'DOCKERFILE_BAD_FLAG', message: 'missing a value on flag --from for COPY', at: '2:6' },
  { name: 'boolean flag with a bad value', dockerfile: 'FROM a\nCOPY --link=maybe a b\n', code: 'DOCKERFILE_BAD_FLAG', message: 'expecting boolean value for flag --link, not: maybe', at: '2:6' },
  { name: 'duplicate flag', dockerfile: 'FROM a AS x\nFROM a\nCOPY --from=x --from=x a b\n', code: 'DOCKERFILE_BAD_FLAG', message: 'duplicate flag --from for COPY', at: '3:6' },
  { name: 'RUN --network value', dockerfile: 'FROM a\nRUN --network=bridge true\n', code: 'DOCKERFILE_BAD_FLAG', message: 'unsupported network mode "bridge"', at: '2:5' },
  { name: 'RUN --security value', dockerfile: 'FROM a\nRUN --security=unconfined true\n', code: 'DOCKERFILE_BAD_FLAG', message: 'unsupported security mode "unconfined"', at: '2:5' },
  { name: 'invalid duration', dockerfile: 'FROM a\nHEALTHCHECK --interval=5x CMD true\n', code: 'DOCKERFILE_BAD_DURATION', message: 'invalid duration "5x" for --interval: unknown unit "x"', at: '2:13' },
  { name: 'duration without unit', dockerfile: 'FROM a\nHEALTHCHECK --timeout=30 CMD true\n', code: 'DOCKERFILE_BAD_DURATION', message: 'invalid duration "30" for --timeout: missing unit', at: '2:13' },
  { name: 'duration below 1ms', dockerfile: 'FROM a\nHEALTHCHECK --start-period=10us CMD true\n', code: 'DOCKERFILE_BAD_DURATION', message: 'cannot be less than 1ms', at: '2:13' },
  { name: 'negative retries', dockerfile: 'FROM a\nHEALTHCHECK --retries=-1 CMD true\n', code: 'DOCKERFILE_BAD_FLAG', message: '--retries cannot be negative (-1)', at: '2:13' },
  { name: 'HEALTHCHECK type', dockerfile: 'FROM a\nHEALTHCHECK RUN true\n', code: 'DOCKERFILE_BAD_ARGUMENTS', message: 'unknown type "RUN" in HEALTHCHECK (try CMD)', at: '2:13' },
  { name: 'unknown mount type', dockerfile: 'FROM a\nRUN --mount=type=bnd,target=/x true\n', code: 'DOCKERFILE_UNKNOWN_MOUNT_TYPE', message: 'unsupported mount type "bnd" (did you mean bind?)', at: '2:13' },
  { name: 'unknown mount option', dockerfile: 'FROM a\nRUN --mount=type=cache,tagret=/x true\n', code: 'DOCKERFILE_BAD_MOUNT', message: "unexpected key 'tagret' in 'tagret=/x' (did you mean target?)", at: '2:24' },
  { name: 'bad mount sharing', dockerfile: 'FROM a\nRUN --mount=type=cache,target=/x,sharing=lockd true\n', code: 'DOCKERFILE_BAD_MOUNT', message: 'unsupported sharing value "lockd" (did you mean locked?)', at: '2:34' },
  { name: 'mode on a bind mount', dockerfile: 'FROM a\nRUN --mount=target=/x,mode=0755 true\n', code: 'DOCKERFILE_BAD_MOUNT', message: 'mode not allowed for "bind" type mounts', at: '2:23' },
  { name: 'mount without target', dockerfile: 'FROM a\nRUN --mount=type=cache true\n', code: 'DOCKERFILE_BAD_MOUNT', message: 'cache mount requires a target', at: '2:1' },
  { name: 'bad mount uid', dockerfile: 'FROM a\nRUN --mount=type=cache,target=/c,uid=root true\n', code: 'DOCKERFILE_BAD_MOUNT', message: 'invalid value root for uid', at: '2:34' },
  { name: 'duplicate stage name', dockerfile: 'FROM a AS build\nFROM b AS Build\n', code: 'DOCKERFILE_DUPLICATE_STAGE', message: 'duplicate stage name "build" (first defined on line 1)', at: '2:11' },
  { name: 'invalid stage name', dockerfile: 'FROM a AS 1st\n', code: 'DOCKERFILE_BAD_STAGE_NAME', message: 'invalid name for build stage: "1st"', at: '1:11' },
  { name: 'FROM argument count', dockerfile: 'FROM a b\n', code: 'DOCKERFILE_BAD_ARGUMENTS', message: 'FROM requires either one or three arguments', at: '1:1' },
  { name: 'instruction before FROM', dockerfile: 'ARG V=1\nRUN echo\nFROM a\n', code: 'DOCKERFILE_NO_STAGE', message: 'RUN before the first FROM', at: '2:1' },
  { name: 'no FROM at all', dockerfile: '# just a comment\nARG A\n', code: 'DOCKERFILE_EMPTY', message: 'no FROM instruction', at: '2:1' },
  { name: 'SHELL not in JSON form', dockerfile: 'FROM a\nSHELL /bin/bash -c\n', code: 'DOCKERFILE_NOT_JSON', message: 'SHELL requires the arguments to be in JSON form', at: '2:1' },
  { name: 'ONBUILD ONBUILD', dockerfile: 'FROM a\nONBUILD ONBUILD RUN x\n', code: 'DOCKERFILE_BAD_ONBUILD', message: 'chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed', at: '2:9' },
  { name: 'ONBUILD FROM', dockerfile: 'FROM a\nONBUILD FROM b\n', code: 'DOCKERFILE_BAD_ONBUILD', message: "FROM isn't allowed as an ONBUILD trigger", at: '2:9' },
  { name: 'ONBUILD MAINTAINER', dockerfile: 'FROM a\nONBUILD MAINTAINER me\n', code: 'DOCKERFILE_BAD_ONBUILD', message: "MAINTAINER isn't allowed as an ONBUILD trigger", at: '2:9' },
  { name: 'ONBUILD trigger with a bad flag', dockerfile: 'FROM a\nONBUILD COPY --form=x a b\n', code: 'DOCKERFILE_UNKNOWN_FLAG', message: 'unknown flag --form for COPY (did you mean --from?)', at: '2:14' },
  { name: 'octal chmod out of range', dockerfile: 'FROM a\nCOPY --chmod=99999 a b\n', code: 'DOCKERFILE_BAD_CHMOD', message: "invalid chmod parameter: '99999'. it should be octal string and between 0 and 07777", at: '2:6' },
  { name: 'symbolic chmod typo', dockerfile: 'FROM a\nADD --chmod=u=rwz a b\n', code: 'DOCKERFILE_BAD_CHMOD', message: "invalid chmod parameter: 'u=rwz'", at: '2:5' },
  { name: 'bad EXPOSE protocol', dockerfile: 'FROM a\nEXPOSE 80/tcpx\n', code: 'DOCKERFILE_BAD_EXPOSE', message: 'invalid EXPOSE port "80/tcpx": invalid protocol', at: '2:8' },
  { name: 'EXPOSE out of range', dockerfile: 'FROM a\nEXPOSE 70000\n', code: 'DOCKERFILE_BAD_EXPOSE', message: 'ports are between 1 and 65535', at: '2:8' },
  { name: 'bad STOPSIGNAL', dockerfile: 'FROM a\nSTOPSIGNAL SIGFOO\n', code: 'DOCKERFILE_BAD_SIGNAL', message: 'invalid STOPSIGNAL signal: SIGFOO', at: '2:12' },
  { name: 'COPY without destination', dockerfile: 'FROM a\nCOPY onlyone\n', code: 'DOCKERFILE_BAD_ARGUMENTS', message: 'COPY requires at least two arguments', at: '2:1' },
  { name: 'bad ADD --checksum', dockerfile: 'FROM a\nADD --checksum=md5:abc https://x.io/f /f\n', code: 'DOCKERFILE_BAD_FLAG', message: 'invalid --checksum "md5:abc"', at: '2:5' },
  { name: 'RUN without a command', dockerfile: 'FROM a\nRUN\n', code: 'DOCKERFILE_BAD_ARGUMENTS', message: 'RUN requires at least one argument', at: '2:1' },
  { name: 'USER with no argument', dockerfile: 'FROM a\nUSER\n', code: 'DOCKERFILE_BAD_ARGUMENTS', message: 'USER requires exactly one argument', at: '2:1' },
  // Conversion (stage graph, variables, sources).
  { name: 'stage cycle', dockerfile: 'FROM alpine AS a\nCOPY --from=b /x /x\nFROM a AS b\nRUN true\n', code: 'DOCKERFILE_STAGE_CYCLE', message: 'circular dependency detected on stage: a -> b -> a', at: '2:6' },
  { name: 'self reference', dockerfile: 'FROM alpine AS a\nCOPY --from=a /x /y\n', code: 'DOCKERFILE_STAGE_CYCLE', message: 'circular dependency detected on stage: a -> a', at: '2:6' },
  { name: 'COPY --from a later stage', dockerfile: 'FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\nRUN true\nFROM a\n', code: 'DOCKERFILE_STAGE_ORDER', message: 'cannot copy from stage "b", it needs to be defined before current stage "a"', at: '2:6' },
  { name: 'COPY --from a bad index', dockerfile: 'FROM alpine\nCOPY --from=3 /x /x\n', code: 'DOCKERFILE_BAD_STAGE_INDEX', message: 'invalid stage index 3', at: '2:6' },
  { name: 'variable in --from', dockerfile: 'FROM alpine\nARG S=x\nCOPY --from=$S /x /x\n', code: 'DOCKERFILE_BAD_FLAG', message: 'variable expansion is not supported for --from', at: '3:6' },
  { name: 'variable in mount from', dockerfile: 'FROM alpine\nRUN --mount=from=$S,target=/s true\n', code: 'DOCKERFILE_BAD_MOUNT', message: "'from' doesn't support variable expansion", at: '2:13' },
  { name: 'COPY of a URL', dockerfile: 'FROM alpine\nCOPY https://example.com/f.txt /f\n', code: 'DOCKERFILE_BAD_SOURCE', message: "source can't be a URL for COPY", at: '2:6' },
  { name: 'COPY of a git repository', dockerfile: 'FROM alpine\nCOPY git@github.com:moby/buildkit.git /src\n', code: 'DOCKERFILE_BAD_SOURCE', message: "source can't be a git ref for COPY", at: '2:6' },
  { name: '--checksum with a local source', dockerfile: 'FROM alpine\nADD --checksum=sha256:' + '0'.repeat(64) + ' file /f\n', code: 'DOCKERFILE_BAD_FLAG', message: '--checksum requires an HTTP(S) or Git source', at: '2:5' },
  { name: 'required variable unset', dockerfile: 'FROM alpine\nENV A="${B:?B is required}"\n', code: 'SHELL_EXPANSION', message: 'B is required', at: '2:1' },
  { name: 'blank base name', dockerfile: 'ARG IMG\nFROM ${IMG}\n', code: 'DOCKERFILE_BAD_FROM', message: 'base name (${IMG}) should not be blank', at: '2:6' },
  { name: 'invalid base image reference', dockerfile: 'FROM Alpine:3\n', code: 'DOCKERFILE_BAD_FROM', message: 'must be lowercase', at: '1:6' },
  { name: 'invalid FROM --platform', dockerfile: 'FROM --platform=linux/amd64/v2/x alpine\n', code: 'DOCKERFILE_BAD_FROM', message: 'failed to parse platform linux/amd64/v2/x', at: '1:6' },
  { name: 'mount over /', dockerfile: 'FROM alpine\nRUN --mount=type=tmpfs,target=/ true\n', code: 'DOCKERFILE_BAD_MOUNT', message: 'invalid mount target "/"', at: '2:1' },
  { name: 'EXPOSE bad port after expansion', dockerfile: 'FROM alpine\nENV P=http\nEXPOSE $P\n', code: 'DOCKERFILE_BAD_EXPOSE', message: 'invalid EXPOSE port "http"', at: '3:1' },
];
