#!/usr/bin/env python3
"""Asks tsbuildd for its Info over gRPC, with nothing of tsbuild installed (docs/grpc.md).

    python3 -m grpc_tools.protoc -I proto --python_out=gen --grpc_python_out=gen proto/control.proto
    PYTHONPATH=gen python3 info.py unix:///run/tsbuild/tsbuildd.sock [TOKEN]
"""
import json
import sys

import grpc

import control_pb2
import control_pb2_grpc

target = sys.argv[1] if len(sys.argv) > 1 else "unix:///run/tsbuild/tsbuildd.sock"
metadata = [("authorization", "Bearer " + sys.argv[2])] if len(sys.argv) > 2 else []

with grpc.insecure_channel(target) as channel:
    control = control_pb2_grpc.ControlStub(channel)
    try:
        info = control.Info(control_pb2.InfoRequest(), metadata=metadata, timeout=10)
    except grpc.RpcError as e:
        # Failures carry a tsbuild.control.v1.ErrorDetail in the trailer "tsbuild-error-bin".
        raw = dict(e.trailing_metadata() or ()).get("tsbuild-error-bin")
        detail = control_pb2.ErrorDetail.FromString(raw) if raw else None
        print("%s: %s" % (e.code().name, detail.code + ": " + detail.message if detail else e.details()), file=sys.stderr)
        sys.exit(1)
    print(json.dumps({
        "version": info.version,
        "runc": info.runc_version,
        "kernel": info.kernel,
        "data_root": info.data_root,
        "rpcs": list(info.features.rpcs),
    }))
