#!/usr/bin/env bash
# Registers Debian's qemu-user-static emulators with the kernel's binfmt_misc, as systemd-binfmt
# does at boot on a machine with systemd (containers and CI machines without it have none): mounts
# binfmt_misc when it is not mounted, then writes each /usr/lib/binfmt.d/qemu-*.conf line that is
# not registered yet. The lines carry the F (fix-binary) flag, so the kernel opens the emulator
# now and RUN steps inside runc containers find it without it being in their root filesystem.
#
#   scripts/setup-binfmt.sh            register every qemu emulator (idempotent)
#   scripts/setup-binfmt.sh --off      unregister them (benchmarks that time Docker, whose BuildKit
#                                      probes every registered emulator on each build)
set -euo pipefail
dir=/proc/sys/fs/binfmt_misc
if [ ! -e "$dir/register" ]; then
  mount -t binfmt_misc binfmt_misc "$dir"
fi
shopt -s nullglob
confs=(/usr/lib/binfmt.d/qemu-*.conf)
if [ "${#confs[@]}" -eq 0 ]; then
  echo "$0: no /usr/lib/binfmt.d/qemu-*.conf (apt-get install qemu-user-static)" >&2
  exit 1
fi
for conf in "${confs[@]}"; do
  line=$(grep -v '^[#;]' "$conf" | head -n1)
  [ -n "$line" ] || continue
  name=$(printf '%s' "$line" | cut -d: -f2)
  if [ "${1:-}" = --off ]; then
    [ -e "$dir/$name" ] && echo -1 >"$dir/$name"
    continue
  fi
  [ -e "$dir/$name" ] || printf '%s' "$line" >"$dir/register"
done
