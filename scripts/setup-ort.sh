#!/usr/bin/env bash
# setup-ort.sh installs the ONNX Runtime shared library that runtime/ort loads,
# once, into a cache folder outside the repository:
#
#   ${ONNXGUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onnxguard}/onnxruntime-1.24.1/libonnxruntime.so.1
#
# The library is the Linux x64 CPU build shipped inside the npm package
# onnxruntime-node, fetched with `npm pack` (no install scripts run) and checked
# against pinned sha256 sums. Running it again is cheap: a present library with
# the right checksum is left alone.
#
# Environment:
#   ONNXGUARD_CACHE        cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/onnxguard)
#   ONNXGUARD_ORT_TARBALL  use this onnxruntime-node-1.24.1.tgz instead of asking npm
#                          (offline machines; the tarball checksum is still verified)
set -euo pipefail

readonly ORT_VERSION=1.24.1
readonly PKG="onnxruntime-node@${ORT_VERSION}"
readonly TGZ_SHA256=57181cf6e6e711b155c5b942d591fd63ded0b5de5c4922d51fd994e7f6ac2772
readonly LIB_SHA256=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4
readonly LIB_IN_PKG=package/bin/napi-v6/linux/x64/libonnxruntime.so.1

say() { printf 'setup-ort: %s\n' "$*"; }
die() { printf 'setup-ort: error: %s\n' "$*" >&2; exit 1; }

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | cut -d' ' -f1
	else
		die "neither sha256sum nor shasum is installed; install coreutils"
	fi
}

os=$(uname -s)
arch=$(uname -m)
if [[ "$os" != Linux || "$arch" != x86_64 ]]; then
	die "this script installs the Linux x64 build only (this machine is $os/$arch); install ONNX Runtime ${ORT_VERSION} yourself and set ONNXRUNTIME_LIB or pass --ort-lib"
fi

cache_root=${ONNXGUARD_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set; set ONNXGUARD_CACHE}/.cache}/onnxguard}
dest_dir="$cache_root/onnxruntime-${ORT_VERSION}"
dest="$dest_dir/libonnxruntime.so.1"

if [[ -f "$dest" ]]; then
	got=$(sha256 "$dest")
	if [[ "$got" == "$LIB_SHA256" ]]; then
		say "ONNX Runtime ${ORT_VERSION} already installed: $dest (checksum ok)"
		exit 0
	fi
	say "$dest has sha256 $got, want $LIB_SHA256; deleting it and fetching again"
	rm -f "$dest"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/onnxguard-ort.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [[ -n "${ONNXGUARD_ORT_TARBALL:-}" ]]; then
	[[ -f "$ONNXGUARD_ORT_TARBALL" ]] || die "ONNXGUARD_ORT_TARBALL=$ONNXGUARD_ORT_TARBALL does not exist"
	say "using $ONNXGUARD_ORT_TARBALL instead of npm (ONNXGUARD_ORT_TARBALL)"
	tgz="$tmp/onnxruntime-node-${ORT_VERSION}.tgz"
	cp "$ONNXGUARD_ORT_TARBALL" "$tgz"
else
	command -v npm >/dev/null 2>&1 ||
		die "npm not found; install Node.js and npm (e.g. 'apt-get install nodejs npm'), or set ONNXRUNTIME_LIB to an existing libonnxruntime.so ${ORT_VERSION}"
	say "fetching $PKG with npm pack (about 85 MB)"
	name=$(cd "$tmp" && npm pack --silent --ignore-scripts "$PKG") ||
		die "'npm pack $PKG' failed; check network access to the npm registry (npm config get registry)"
	tgz="$tmp/$(printf '%s\n' "$name" | tail -n1)"
	[[ -f "$tgz" ]] || die "npm pack reported '$name' but $tgz does not exist"
fi

got=$(sha256 "$tgz")
if [[ "$got" != "$TGZ_SHA256" ]]; then
	rm -f "$tgz"
	die "$PKG tarball has sha256 $got, want $TGZ_SHA256; deleted it (a changed or corrupt download; nothing was installed)"
fi
say "tarball checksum ok"

tar -xzf "$tgz" -C "$tmp" "$LIB_IN_PKG" ||
	die "$LIB_IN_PKG is missing from the $PKG tarball"
lib="$tmp/$LIB_IN_PKG"
got=$(sha256 "$lib")
if [[ "$got" != "$LIB_SHA256" ]]; then
	rm -f "$lib"
	die "extracted libonnxruntime.so.1 has sha256 $got, want $LIB_SHA256; deleted it (nothing was installed)"
fi

# Copy beside the destination first so the final mv is a rename on one file
# system: a reader never sees a half-written library.
mkdir -p "$dest_dir"
part=$(mktemp "$dest_dir/.libonnxruntime.so.1.XXXXXX")
trap 'rm -rf "$tmp"; rm -f "$part"' EXIT
cp "$lib" "$part"
chmod 0755 "$part"
mv -f "$part" "$dest"
say "installed ONNX Runtime ${ORT_VERSION} (CPU build): $dest"
say "onnxguard finds it there by default; elsewhere set ONNXRUNTIME_LIB=$dest or pass --ort-lib"
