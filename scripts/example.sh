#!/usr/bin/env bash
# Builds examples/layer end to end on a fresh Debian 12 machine (as root): installs what tsbuild
# needs, compiles it, makes the offline busybox base image, builds the seed example twice (the
# second build is all cached) and shows the image with `tsbuild history`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run build --silent
export TSBUILD_ROOT=${TSBUILD_ROOT:-/var/lib/tsbuild}
tsbuild() { node dist/bin/tsbuild.mjs "$@"; }

base_tar=$(mktemp --suffix=.tar)
trap 'rm -f "$base_tar"' EXIT
bash scripts/make-busybox-rootfs.sh "$base_tar"
tsbuild image import "$base_tar" localhost/busybox:latest >/dev/null

tsbuild build --progress=plain -t layer examples/layer
echo
echo '--- rebuild (every step should be CACHED) ---'
tsbuild build --progress=plain -t layer examples/layer 2>&1 | grep -E 'CACHED|steps:'
echo
tsbuild history layer
