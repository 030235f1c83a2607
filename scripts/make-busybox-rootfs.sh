#!/usr/bin/env bash
# A minimal, offline base image from Debian's busybox-static: /bin/busybox with a symlink for every
# applet (so /bin/sh), /etc/passwd and /etc/group with root, a non-root user `app` (uid/gid 1000,
# also in group `users`) and `nobody`, /tmp (1777), /root, /home/app. No /etc/hostname (the
# runtime provides it). Every mtime is fixed and the tar is sorted, so its digest is stable for a
# given busybox binary.
#
#   scripts/make-busybox-rootfs.sh OUT.tar       write the root filesystem as a tar
#   scripts/make-busybox-rootfs.sh --dir DIR     write it into DIR (created; must be empty)
#
# Environment: BUSYBOX (default /bin/busybox; /opt/tsbuild-test/arm64/bin/busybox, from
# scripts/install-deps.sh, for the arm64 base), SOURCE_DATE_EPOCH (default 946684800, 2000-01-01).
# The applet list comes from the host's /bin/busybox when BUSYBOX is a foreign binary that cannot
# run here (no emulator registered); Debian builds both from the same configuration.
# Run as root so owners are exact (root everywhere, 1000:1000 for /home/app).
set -euo pipefail

busybox=${BUSYBOX:-/bin/busybox}
epoch=${SOURCE_DATE_EPOCH:-946684800}

usage() {
  echo "usage: $0 OUT.tar | $0 --dir DIR" >&2
  exit 2
}
[ $# -ge 1 ] || usage
if [ ! -x "$busybox" ]; then
  echo "$0: $busybox not found (apt-get install busybox-static)" >&2
  exit 1
fi

make_rootfs() {
  local d=$1
  mkdir -p "$d"
  if [ -n "$(ls -A "$d")" ]; then
    echo "$0: $d is not empty" >&2
    exit 1
  fi
  umask 022
  mkdir -p "$d"/{bin,dev,etc,home/app,proc,root,sys,tmp,usr/bin,var}
  install -m 0755 "$busybox" "$d/bin/busybox"
  local applet
  local applets
  applets=$("$busybox" --list 2>/dev/null) || applets=$(/bin/busybox --list)
  for applet in $applets; do
    [ "$applet" = busybox ] || ln -s busybox "$d/bin/$applet"
  done
  ln -s ../../bin/busybox "$d/usr/bin/env"
  cat >"$d/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
  cat >"$d/etc/group" <<'GROUP'
root:x:0:
users:x:100:app
app:x:1000:
nogroup:x:65534:
GROUP
  chmod 0644 "$d/etc/passwd" "$d/etc/group"
  chmod 1777 "$d/tmp"
  chmod 0700 "$d/root"
  if [ "$(id -u)" = 0 ]; then
    chown -hR 0:0 "$d"
    chown 1000:1000 "$d/home/app"
  else
    echo "$0: warning: not root, files keep your uid/gid" >&2
  fi
  find "$d" -exec touch -h -d "@$epoch" {} +
}

if [ "$1" = --dir ]; then
  [ $# -eq 2 ] || usage
  make_rootfs "$2"
  exit 0
fi
[ $# -eq 1 ] || usage
out=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/busybox-rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
make_rootfs "$work/rootfs"
# Sorted names, numeric owners, fixed mtimes, no atime/ctime/xattr records: a reproducible tar.
(cd "$work/rootfs" && LC_ALL=C tar --create --file - --sort=name --format=posix --numeric-owner \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  --mtime="@$epoch" --no-xattrs --no-acls --no-selinux $(LC_ALL=C ls -A)) >"$out.tmp"
mv "$out.tmp" "$out"
