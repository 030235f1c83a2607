#!/usr/bin/env python3
"""Builds a Dockerfile through tsbuildd over gRPC, with nothing of tsbuild installed (docs/grpc.md).

Sends the context directory as one tar (CONTEXT_TRANSFER_TAR, the simplest transfer), prints the
build's progress as the daemon streams it, and ends with the image's config digest.

    python3 -m grpc_tools.protoc -I proto --python_out=gen --grpc_python_out=gen proto/control.proto
    PYTHONPATH=gen python3 build.py unix:///run/tsbuild/tsbuildd.sock CONTEXT_DIR TAG [TOKEN]
"""
import io
import os
import sys
import tarfile

import grpc

import control_pb2 as pb
import control_pb2_grpc

target, context_dir, tag = sys.argv[1], sys.argv[2], sys.argv[3]
metadata = [("authorization", "Bearer " + sys.argv[4])] if len(sys.argv) > 4 else []
CHUNK = 1 << 20


def context_tar(directory):
    """The context as an uncompressed tar, paths relative to its root."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(directory)):
            tar.add(os.path.join(directory, name), arcname=name)
    return buf.getvalue()


def requests():
    with open(os.path.join(context_dir, "Dockerfile"), "rb") as f:
        dockerfile = f.read()
    yield pb.SolveRequest(start=pb.BuildStart(
        dockerfile=pb.Dockerfile(content=dockerfile, name="Dockerfile"),
        context_transfer=pb.CONTEXT_TRANSFER_TAR,
        tags=[tag],
    ))
    data = context_tar(context_dir)
    for i in range(0, max(len(data), 1), CHUNK):
        piece = data[i:i + CHUNK]
        yield pb.SolveRequest(context_tar=pb.DataChunk(data=piece, eof=i + CHUNK >= len(data)))


names = {}
with grpc.insecure_channel(target) as channel:
    control = control_pb2_grpc.ControlStub(channel)
    try:
        for msg in control.Solve(requests(), metadata=metadata, timeout=600):
            kind = msg.WhichOneof("msg")
            if kind == "accepted":
                print("build ref %s" % msg.accepted.ref)
            elif kind == "progress":
                event = msg.progress.WhichOneof("event")
                if event == "vertex":
                    v = msg.progress.vertex
                    names[v.digest] = v.name
                    state = pb.VertexState.Name(v.state).replace("VERTEX_STATE_", "")
                    if state in ("CACHED", "COMPLETED", "ERROR"):
                        print("%-9s %s" % (state, v.name))
                elif event == "log":
                    for line in msg.progress.log.data.decode("utf-8", "replace").splitlines():
                        print("  | %s" % line)
            elif kind == "error":
                # The call then ends with the matching gRPC status (handled below).
                pass
            elif kind == "result":
                s = msg.result.summary
                print("steps: %d total, %d cached, %d executed" % (s.total, s.cached, s.executed))
                print("image %s %s" % (tag, msg.result.config_digest))
    except grpc.RpcError as e:
        raw = dict(e.trailing_metadata() or ()).get("tsbuild-error-bin")
        detail = pb.ErrorDetail.FromString(raw) if raw else None
        where = ""
        if detail and detail.HasField("location"):
            where = "%s:%d: " % (detail.location.file, detail.location.line)
        print("%s: %s%s" % (e.code().name, where, detail.code + ": " + detail.message if detail else e.details()), file=sys.stderr)
        sys.exit(1)
