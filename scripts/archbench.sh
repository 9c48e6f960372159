#!/usr/bin/env bash
# archbench.sh measures the interpreter on the deployed architectures
# (internal/testfiles.Archs, exported by testdata/make_arch_models.py)
# beside ONNX Runtime: forward pass, FGSM step, weight gradient and the
# paper recipe's training step, each in its own process so that the peak
# resident memory (/usr/bin/time) is that path's. The peak includes the
# two ONNX Runtime sessions the comparison opens.
#
#   bash scripts/archbench.sh [NAME ...]      # default: every exported model
#   BENCHTIME=2x BLAS_TAGS=-tags=openblas bash scripts/archbench.sh resnet50
#   PATHS='forward fgsm' bash scripts/archbench.sh     # some of the paths
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
# The CLI collects garbage at 25% growth (cmd/onnxguard/main.go); measure
# the same way.
export GOGC=${GOGC:-25}
BENCHTIME=${BENCHTIME:-2x}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/archbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
$GO test ${BLAS_TAGS:-} -c -o "$tmp/interp.test" ./runtime/interp/
$GO test ${BLAS_TAGS:-} -c -o "$tmp/harden.test" ./harden/
names=("$@")
if ((${#names[@]} == 0)); then
	names=(resnet50 mobilenet_v2 mobilenet_v3_large efficientnet_b0 convnext_tiny vit_b_16)
fi
echo "| model | path | interp img/s | ORT forward img/s | interp/ORT | peak RSS |"
echo "|---|---|--:|--:|--:|--:|"
for name in "${names[@]}"; do
	for path in ${PATHS:-forward fgsm train paperstep}; do
		if [[ $path == paperstep ]]; then
			bin=(harden.test -test.bench "^BenchmarkArchPaperStep/$name\$")
			dir=harden
		else
			bin=(interp.test -test.bench "^BenchmarkArch/$name/$path\$")
			dir=runtime/interp
		fi
		out=$( cd "$dir" && /usr/bin/time -f 'maxrss %M' "$tmp/${bin[0]}" -test.run '^$' "${bin[@]:1}" -test.benchtime "$BENCHTIME" 2>&1 ) || { echo "| $name | $path | failed: $(tail -n 3 <<<"$out" | tr '\n' ' ') |"; continue; }
		if grep -q -- '--- SKIP' <<<"$out"; then
			echo "| $name | $path | skipped: $(grep -A1 -- '--- SKIP' <<<"$out" | tail -n1 | sed 's/^ *//') |"
			continue
		fi
		awk -v name="$name" -v path="$path" '
			/^Benchmark/ { for (i = 3; i < NF; i += 2) m[$(i + 1)] = $i }
			/^maxrss/ { rss = $2 }
			END { printf "| %s | %s | %.2f | %.2f | %.3f | %.1f GiB |\n", name, path, m["interp-img/s"], m["ort-img/s"], m["interp/ort"], rss / 1048576 }' <<<"$out"
	done
done
