#!/usr/bin/env bash
# image.sh builds the container image of the README's Kubernetes recipe,
# localhost/onnxguard:latest (IMAGE overrides), with podman and no registry:
#
#   1. a minimal Debian 12 root filesystem made with debootstrap from the
#      Debian mirror apt already uses, imported as localhost/onnxguard-base:bookworm
#      (made once; REBUILD_BASE=1 makes it again);
#   2. onnxguard built without OpenBLAS (the image carries no BLAS library);
#   3. the ONNX Runtime library that scripts/setup-ort.sh installed, checked
#      against the same pinned sha256;
#   4. podman build with the Containerfile at the repository's root.
#
# Needs root (debootstrap), podman and debootstrap (Debian's packages; this
# script installs them when apt-get is there). Push the image to your own
# registry with `podman push localhost/onnxguard:latest REGISTRY/onnxguard:latest`.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly IMAGE=${IMAGE:-localhost/onnxguard:latest}
readonly BASE=${BASE:-localhost/onnxguard-base:bookworm}
readonly LIB_SHA256=$(sed -n 's/^readonly LIB_SHA256=//p' scripts/setup-ort.sh)
say() { printf 'image: %s\n' "$*"; }
die() { printf 'image: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "run as root: debootstrap and podman's image store need it"
missing=()
for tool in podman debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
	command -v apt-get >/dev/null || die "install ${missing[*]} and run again"
	say "installing ${missing[*]} with apt-get"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The mirror apt uses here, so the image is made from the same source as the
# machine's packages: deb822 sources first, then the one-line format.
mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] && awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' "$f"
	done | head -n1 | grep . && return
	awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null | grep . ||
		die "no Debian mirror found in /etc/apt; set MIRROR"
}

if [[ -n ${REBUILD_BASE:-} ]] || ! podman image exists "$BASE"; then
	src=${MIRROR:-$(mirror)}
	root=$(mktemp -d "${TMPDIR:-/tmp}/onnxguard-rootfs.XXXXXX")
	trap 'rm -rf "$root"' EXIT
	say "making a minimal Debian 12 root filesystem with debootstrap (about a minute)"
	debootstrap --variant=minbase bookworm "$root" "$src" >"$root.log" 2>&1 ||
		die "debootstrap failed; its log is $root.log"
	rm -f "$root.log"
	# The image needs no package manager caches or documentation.
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc "$root"/usr/share/man
	tar -C "$root" -c . | podman import --quiet - "$BASE" >/dev/null
	rm -rf "$root"
	trap - EXIT
	say "imported the base as $BASE"
fi

ctx=$(mktemp -d "${TMPDIR:-/tmp}/onnxguard-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
say "building onnxguard for the image (pure-Go matrix products)"
go build -trimpath -o "$ctx/onnxguard" ./cmd/onnxguard

lib=${ONNXRUNTIME_LIB:-${ONNXGUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onnxguard}/onnxruntime-1.24.1/libonnxruntime.so.1}
[[ -f $lib ]] || die "ONNX Runtime is not installed at $lib; run make setup (or bash scripts/setup-ort.sh)"
got=$(sha256sum "$lib" | cut -d' ' -f1)
[[ $got == "$LIB_SHA256" ]] || die "$lib has sha256 $got, want $LIB_SHA256 (the version setup-ort.sh pins)"
cp "$lib" "$ctx/libonnxruntime.so.1"
cp Containerfile "$ctx/"

say "podman build -t $IMAGE"
podman build --quiet --build-arg BASE="$BASE" -t "$IMAGE" "$ctx" >/dev/null
say "built $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
