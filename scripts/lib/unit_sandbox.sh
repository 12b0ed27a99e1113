#!/usr/bin/env bash
# unit_sandbox.sh WORK UID PROGRAM [ARG...]
#
# Runs PROGRAM in a sandbox like the one deploy/pgcdc.service asks systemd
# for, for scripts/check-hardening.sh on machines where systemd does not
# manage services. Run it as root inside `unshare --mount --pid --fork
# --propagation private` (every mount below stays in that namespace):
#
#   PrivateDevices, DevicePolicy=closed   /dev holds null, zero, full, random,
#                                         urandom, tty and an empty shm
#   ProtectProc=invisible, ProcSubset=pid a proc of the new pid namespace,
#                                         hidepid=invisible, subset=pid
#   ProtectKernelTunables, ...ControlGroups  /sys read-only
#   ProtectSystem=strict                  / read-only
#   PrivateTmp                            empty /tmp and /var/tmp
#   ProtectHome=yes                       /root and /home empty, no access
#   CacheDirectory=pgcdc + TMPDIR         /var/cache/pgcdc, the only writable
#                                         place besides /tmp (mode 0700)
#   DynamicUser, CapabilityBoundingSet=,  PROGRAM runs as UID:UID with no
#   NoNewPrivileges, UMask, LimitCORE     groups, no capabilities (bounding
#                                         set empty), no_new_privs, umask
#                                         0077, no core files
#
# WORK (the caller's files) is bind-mounted writable at
# /run/pgcdc-hardening, WORK/pgsock (if there is one) read-only at
# /run/postgresql; the rest of /run is an empty read-only tmpfs.
# PROGRAM's system calls are filtered by whatever PROGRAM itself loads
# (scripts/lib/seccomp_unit.c).
set -euo pipefail
work=$1
uid=$2
shift 2

mkdir -p "$work/.hostdev"
mount --bind /dev "$work/.hostdev"
mount -t tmpfs -o mode=755,nosuid,noexec tmpfs /dev
for node in null zero full random urandom tty; do
  touch "/dev/$node"
  mount --bind "$work/.hostdev/$node" "/dev/$node"
done
mkdir /dev/shm
mount -t tmpfs -o mode=1777,nosuid,nodev,noexec tmpfs /dev/shm
umount "$work/.hostdev"

mount -t proc -o hidepid=invisible,subset=pid,nosuid,nodev,noexec proc /proc
while read -r _ mountpoint _; do
  if [[ $mountpoint == /sys || $mountpoint == /sys/* ]]; then
    mount -o remount,bind,ro "$mountpoint"
  fi
done </proc/self/mounts

mount -t tmpfs -o mode=755 tmpfs /run
mkdir /run/pgcdc-hardening
mount --bind "$work" /run/pgcdc-hardening
if [[ -d $work/pgsock ]]; then # a server's socket directory, read-only
  mkdir /run/postgresql
  mount --bind "$work/pgsock" /run/postgresql
  mount -o remount,bind,ro /run/postgresql
fi
mount -o remount,ro /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
mount -t tmpfs -o mode=755 tmpfs /var/cache
mkdir -m 0700 /var/cache/pgcdc
chown "$uid:$uid" /var/cache/pgcdc
for home in /root /home; do
  mount -t tmpfs -o mode=000,ro tmpfs "$home"
done
mount -o remount,bind,ro /

exec setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all \
  --bounding-set=-all --no-new-privs -- \
  env -i PATH=/usr/bin:/bin HOME=/ TMPDIR=/var/cache/pgcdc \
  bash -c 'umask 0077; ulimit -c 0; exec "$@"' unit_sandbox "$@"
