#!/usr/bin/env bash
# Builds examples/layer end to end on a fresh Debian 12 machine (as root): installs only what the
# example needs (runc and slirp4netns for RUN steps, busybox-static for the offline base image, gcc
# and libc6-dev for the native module and the static tsbuild-run-init; the
# test tools come with scripts/install-deps.sh), compiles tsbuild, makes the busybox base image,
# builds the seed example twice (the second build is all cached) and shows it with `tsbuild history`.
# Data goes to $TSBUILD_ROOT, by default .tsbuild-example/ in this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh runc slirp4netns iproute2 busybox-static gcc libc6-dev
npm run build --silent
export TSBUILD_ROOT=${TSBUILD_ROOT:-$PWD/.tsbuild-example}
echo "data root: $TSBUILD_ROOT"
tsbuild() { node dist/bin/tsbuild.cjs "$@"; }

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
cat <<MSG

Done. The images and build cache are in $TSBUILD_ROOT (tsbuild --root DIR, or TSBUILD_ROOT=DIR,
picks a data root; the default is /var/lib/tsbuild). To run tsbuild as a command from anywhere:
  npm link            # links this checkout globally: tsbuild and tsbuildd on the PATH
  npm install -g .    # or installs a copy
then: TSBUILD_ROOT=$TSBUILD_ROOT tsbuild images
MSG
