#!/usr/bin/env bash
# Installs what tsbuild and its tests need on Debian 12 (run as root): runc for RUN steps,
# slirp4netns for their default network (iproute2: `ip`, for the network tests),
# busybox-static for the offline base image, docker.io/buildah/podman to compare against,
# docker-registry for registry tests, gcc with a static libc for the seccomp probe, openssl for
# test certificates, python3-grpcio and python3-grpc-tools for the daemon's non-TypeScript client
# test, systemd (systemd-analyze checks deploy/tsbuildd.service), chromium (headless, to load the
# HTML report pages in tests), openssh-client (ssh-agent, ssh-keygen for the ssh forwarding tests),
# and the npm packages.
# With arguments, installs only those Debian packages (scripts/example.sh passes its short list).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=("$@")
[ "${#pkgs[@]}" -gt 0 ] || pkgs=(runc slirp4netns iproute2 busybox-static docker.io docker-registry buildah podman xz-utils bzip2 gzip pigz apache2-utils graphviz git ca-certificates zstd libcap2-bin time gcc libc6-dev openssl python3-grpcio python3-grpc-tools systemd chromium openssh-client)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
