#!/usr/bin/env bash
# Installs what tsbuild and its tests need on Debian 12 (run as root): runc for RUN steps,
# slirp4netns for their default network (iproute2: `ip`, for the network tests),
# busybox-static for the offline base image, docker.io/buildah/podman to compare against,
# docker-registry for registry tests, gcc with a static libc for the seccomp probe, openssl for
# test certificates, python3-grpcio and python3-grpc-tools for the daemon's non-TypeScript client
# test, systemd (systemd-analyze checks deploy/tsbuildd.service), chromium (headless, to load the
# HTML report pages in tests), openssh-client (ssh-agent, ssh-keygen for the ssh forwarding tests),
# qemu-user-static (arm64 and other emulators for multi-platform RUN steps; registered with the
# kernel by scripts/setup-binfmt.sh), Debian's arm64 busybox-static (downloaded and unpacked to
# /opt/tsbuild-test/arm64, never installed over the host's: the arm64 test base image),
# and the npm packages.
# With arguments, installs only those Debian packages (scripts/example.sh passes its short list).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=("$@")
[ "${#pkgs[@]}" -gt 0 ] || pkgs=(runc slirp4netns iproute2 busybox-static docker.io docker-registry buildah podman xz-utils bzip2 gzip pigz apache2-utils graphviz git ca-certificates zstd libcap2-bin time gcc libc6-dev openssl python3-grpcio python3-grpc-tools systemd chromium openssh-client qemu-user-static)
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

# The arm64 busybox for the multi-platform tests' base image (scripts/make-busybox-rootfs.sh with
# BUSYBOX=/opt/tsbuild-test/arm64/bin/busybox).
arm64_busybox=/opt/tsbuild-test/arm64/bin/busybox
if [ $# -eq 0 ] && [ ! -x "$arm64_busybox" ] && [ "$(id -u)" = 0 ]; then
  dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; apt-get update -qq; }
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq busybox-static:arm64 >/dev/null 2>&1) || { apt-get update -qq; (cd "$tmp" && apt-get download -qq busybox-static:arm64 >/dev/null); }
  dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$tmp/x"
  install -D -m 0755 "$tmp/x/bin/busybox" "$arm64_busybox"
  rm -rf "$tmp"
fi
if [ $# -eq 0 ] && [ "$(id -u)" = 0 ]; then
  bash scripts/setup-binfmt.sh
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
