#!/usr/bin/env bash
# Installs what tsbuild and its tests need on Debian 12 (run as root): runc for RUN steps,
# slirp4netns for their default network (iproute2: `ip`, for the network tests),
# busybox-static for the offline base image, docker.io/buildah/podman to compare against,
# docker-registry for registry tests, gcc with a static libc for the seccomp probe, openssl for
# test certificates, python3-grpcio and python3-grpc-tools for the daemon's non-TypeScript client
# test, systemd (systemd-analyze checks deploy/tsbuildd.service), chromium (headless, to load the
# HTML report pages in tests), openssh-client (ssh-agent, ssh-keygen for the ssh forwarding tests),
# qemu-user-static (arm64 and other emulators for multi-platform RUN steps; registered with the
# kernel by scripts/setup-binfmt.sh), Debian's arm64 and armhf busybox-static (downloaded and unpacked to
# /opt/tsbuild-test/ARCH, never installed over the host's: the foreign test base images),
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

# Foreign busybox binaries for the multi-platform tests' base images (scripts/make-busybox-rootfs.sh
# with BUSYBOX=/opt/tsbuild-test/ARCH/bin/busybox): Debian's arm64 and armhf (linux/arm/v7) builds.
# `apt-get update` may report a mirror in sync for one index (seen here for bookworm-security);
# what matters is that the package downloads, so the update's status is not the verdict.
foreign_busybox() {
  local arch=$1 dest=/opt/tsbuild-test/$1/bin/busybox tmp try
  [ -x "$dest" ] && return 0
  dpkg --print-foreign-architectures | grep -qx "$arch" || { dpkg --add-architecture "$arch"; apt-get update -qq || true; }
  tmp=$(mktemp -d)
  for try in 1 2 3; do
    (cd "$tmp" && apt-get download -qq "busybox-static:$arch" >/dev/null 2>&1) && break
    [ "$try" = 3 ] && { echo "cannot download busybox-static:$arch" >&2; rm -rf "$tmp"; return 1; }
    apt-get update -qq || true
  done
  dpkg-deb -x "$tmp"/busybox-static_*_"$arch".deb "$tmp/x"
  install -D -m 0755 "$tmp/x/bin/busybox" "$dest"
  rm -rf "$tmp"
}
if [ $# -eq 0 ] && [ "$(id -u)" = 0 ]; then
  foreign_busybox arm64
  foreign_busybox armhf
fi
if [ $# -eq 0 ] && [ "$(id -u)" = 0 ]; then
  bash scripts/setup-binfmt.sh
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
