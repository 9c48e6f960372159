#!/usr/bin/env bash
# image-test.sh runs the README's Kubernetes recipe in the image that
# scripts/image.sh built, on the built-in data: the first 1000 Fashion-MNIST
# test images (as the .npy pair the recipe reads) and the PyTorch-trained
# CNN. Eight containers audit one shard each, exactly the recipe's command
# with JOB_COMPLETION_INDEX set as an Indexed Job sets it, with /models and
# /data mounted read-only; a ninth merges the shards with the recipe's
# merge command. The merged report must equal an unsharded audit run on
# the host, counts for counts.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly IMAGE=${IMAGE:-localhost/onnxguard:latest}
say() { printf 'image-test: %s\n' "$*"; }
die() { printf 'image-test: error: %s\n' "$*" >&2; exit 1; }

podman image exists "$IMAGE" || die "$IMAGE is missing; run make image first"
work=$(mktemp -d "${TMPDIR:-/tmp}/onnxguard-image-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/models" "$work/data" "$work/results"
cp testdata/models/fmnist_cnn.onnx "$work/models/model.onnx"
go run ./scripts/idx2npy testdata/fashion/t10k-images-1000-idx3-ubyte.gz "$work/data/test.npy" "$work/data/labels.npy"
chmod 0777 "$work/results" # the image runs as nobody, as a pod without a securityContext would

# Some hosts' default OCI runtime cannot set a container's rlimits or needs
# cgroup v2 only (crun on a cgroup v1/v2 hybrid); runc with explicit limits
# works there. Use the first that runs.
opts=()
for try in "" "--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"; do
	read -r -a o <<<"$try"
	if podman run --rm "${o[@]}" "$IMAGE" true >/dev/null 2>&1; then
		opts=("${o[@]}")
		break
	fi
	[[ -z $try ]] || die "podman cannot run $IMAGE here: $(podman run --rm "${o[@]}" "$IMAGE" true 2>&1 | tail -n1)"
done
run() {
	podman run --rm "${opts[@]}" -v "$work/models:/models:ro" -v "$work/data:/data:ro" -v "$work/results:/results" "$@"
}

# The recipe's command, as the README's Job writes it.
cmd=$(sed -n 's/^ *command: \["sh", "-c", "\(.*\)"\]$/\1/p' README.md)
[[ $cmd == onnxguard\ audit* ]] || die "README.md's Kubernetes recipe has no 'command: [\"sh\", \"-c\", ...]' line"
for i in 0 1 2 3 4 5 6 7; do
	say "shard $((i + 1))/8: $cmd"
	run -e JOB_COMPLETION_INDEX=$i "$IMAGE" sh -c "$cmd" >"$work/shard-$i.log" 2>&1 || { cat "$work/shard-$i.log" >&2; die "shard $((i + 1)) failed"; }
done
merge=$(perl -0ne 'print $1 if /Once the Job completes: `([^`]*)`/' README.md | tr '\n' ' ' | sed 's/ *$//')
[[ $merge == onnxguard\ report\ merge* ]] || die "README.md has no 'Once the Job completes: \`onnxguard report merge ...\`' line"
say "merge: $merge"
run "$IMAGE" sh -c "$merge" >"$work/merge.log" 2>&1 || { code=$?; cat "$work/merge.log" >&2; [[ $code == 3 ]] || die "merge failed"; say "the --fail-under gate failed (status 3), as it should for this undefended model"; }

say "the same audit unsharded on the host"
bin_args=$(sed -e 's/ --shard [^ ]*//' -e 's| --report [^ ]*||' <<<"${cmd#onnxguard }")
bin_args=${bin_args//\/models\//$work/models/}
bin_args=${bin_args//\/data\//$work/data/}
go run ./cmd/onnxguard $bin_args --json >"$work/host.json"
go run ./scripts/reportcmp "$work/host.json" "$work/results/merged/report.json"
say "ok: the merged report of 8 containers equals one run"
