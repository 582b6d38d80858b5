#!/usr/bin/env bash
# Builds asaflow and runs its whole test suite (the README's second command, as CI runs it) on
# Debian 13 "trixie", in a chroot made with debootstrap: LibTorch 2.6 instead of Debian 12's
# 1.13, g++ 14, Boost 1.83, yaml-cpp 0.8, spdlog 1.15, GoogleTest 1.15, Python 3.13. This
# links and runs every LibTorch code path that does not need a GPU against LibTorch 2.x, where
# scripts/check-libtorch2.sh only compiles against its headers. Needs root and the Debian and
# npm registries; about 2 GB of packages on first use.
#
# usage: scripts/check-debian13.sh [--worktree] [ROOT]   (default ROOT: /var/tmp/asaflow-trixie)
#   The chroot is made once and kept; each run tests a fresh clone of this repository's HEAD
#   (--worktree: the working tree as it is, uncommitted changes included) in ROOT/root/asaflow.
#   Its build and the data cache are kept between runs of the same commit.
# exit: the test command's status; 2 when the chroot could not be made.
set -euo pipefail

worktree=0
if [[ ${1:-} == --worktree ]]; then worktree=1; shift; fi
ROOT=${1:-/var/tmp/asaflow-trixie}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ $(id -u) == 0 ]] || { echo "check-debian13: needs root (debootstrap, chroot, mount)" >&2; exit 2; }

if [[ ! -f $ROOT/.asaflow-complete ]]; then
  command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null
  echo "check-debian13: making a Debian 13 chroot in $ROOT"
  mkdir -p "$ROOT"
  debootstrap --variant=minbase trixie "$ROOT" http://deb.debian.org/debian >"$ROOT.debootstrap.log" 2>&1 ||
    { echo "check-debian13: debootstrap failed: see $ROOT.debootstrap.log" >&2; exit 2; }
  touch "$ROOT/.asaflow-complete"
fi

# What lets the chroot reach the registries as this machine does: DNS, npm's configuration and
# any local certificate authorities (update-ca-certificates in the chroot keeps them).
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
for f in /etc/npmrc /root/.npmrc; do
  if [[ -f $f ]]; then cp "$f" "$ROOT$f"; fi
done
if compgen -G "/usr/local/share/ca-certificates/*" >/dev/null; then
  mkdir -p "$ROOT/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/* "$ROOT/usr/local/share/ca-certificates/"
fi
[[ -f $ROOT/etc/ssl/certs/ca-certificates.crt ]] ||
  { mkdir -p "$ROOT/etc/ssl/certs"; cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/"; }

# proc, dev and sys are mounted for the run and unmounted on exit; after a kill -9, unmount
# them (umount -R ROOT/dev ...) before deleting ROOT, or the deletion reaches this machine's.
mounted=()
cleanup() { for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -R "${mounted[$i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
for fs in proc dev sys; do
  mountpoint -q "$ROOT/$fs" && continue
  if [[ $fs == proc ]]; then mount -t proc proc "$ROOT/proc"; else mount --rbind "/$fs" "$ROOT/$fs"; fi
  mounted+=("$ROOT/$fs")
done

dest=$ROOT/root/asaflow
if ((worktree)); then
  echo "check-debian13: testing the working tree of $repo"
  mkdir -p "$dest"
  (cd "$repo" && tar --exclude=./build --exclude=./.git --exclude='*/.asaflow' -cf - .) | tar -xf - -C "$dest"
else
  head=$(git -C "$repo" rev-parse HEAD)
  echo "check-debian13: testing commit $head (a fresh clone)"
  [[ -d $dest/.git && $(git -C "$dest" rev-parse HEAD 2>/dev/null) == "$head" ]] || {
    rm -rf "$dest"; git clone -q "$repo" "$dest"; git -C "$dest" checkout -q "$head"; }
fi

started=$(date +%s)
status=0
chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb CI=true \
  bash -c 'cd /root/asaflow && cat /etc/debian_version && bash .ci/run' || status=$?
echo "check-debian13: Debian $(cat "$ROOT/etc/debian_version"), exit $status after $(( $(date +%s) - started )) s"
exit $status
