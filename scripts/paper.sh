#!/usr/bin/env bash
# Reproduces the seed paper (arXiv 2502.05203) end to end on real
# Fashion-MNIST, without Python: init the paper's simple CNN, train it clean
# (the baseline), audit it with FGSM and PGD at ε = 0.1 on ONNX Runtime, then
# harden the baseline with each recipe and audit every exported file again.
# Prints a table beside the paper's figures (87.27% baseline, 81.82% after
# adversarial training) and writes it to WORK/table.md.
#
#   scripts/paper.sh [--work DIR] [--train-limit N] [--test-limit N]
#                    [--clean-epochs N] [--epochs N] [--recipes "paper fgsm-rs pgd trades mart"]
#                    [--data DIR] [--eps E] [--autoattack NAME] [--aa-iters N]
#
# Every model is audited with FGSM, PGD and --autoattack (default the
# standard AutoAttack: APGD-CE, APGD-T, FAB-T, Square; "none" leaves it
# out, apgd-ce or apgd-t run one stage); --aa-iters shortens its stages.
#
# --data takes a folder with the four IDX files of MNIST or Fashion-MNIST
# (train-images-idx3-ubyte.gz, ...). CIFAR-10: --cifar DIR (the
# cifar-10-batches-bin folder) with --eps 0.03; the paper-complex CNN is used.
set -euo pipefail
cd "$(dirname "$0")/.."

work=paper-run data=/usr/share/datasets/fashion-mnist cifar="" eps=0.1
train_limit=0 test_limit=0 clean_epochs=3 epochs=1 recipes="paper fgsm-rs pgd trades mart"
autoattack=autoattack aa_iters=0
while [ $# -gt 0 ]; do
	case "$1" in
	--work) work=$2; shift 2 ;;
	--data) data=$2; shift 2 ;;
	--cifar) cifar=$2; shift 2 ;;
	--eps) eps=$2; shift 2 ;;
	--train-limit) train_limit=$2; shift 2 ;;
	--test-limit) test_limit=$2; shift 2 ;;
	--clean-epochs) clean_epochs=$2; shift 2 ;;
	--epochs) epochs=$2; shift 2 ;;
	--recipes) recipes=$2; shift 2 ;;
	--autoattack) autoattack=$2; shift 2 ;;
	--aa-iters) aa_iters=$2; shift 2 ;;
	*) echo "paper.sh: unknown option $1 (see the comment at the top of the script)" >&2; exit 2 ;;
	esac
done

if [ -n "$cifar" ]; then
	arch=paper-complex input=3x32x32 train=$cifar test=$cifar/test_batch.bin
	[ "$eps" = 0.1 ] && eps=0.03
else
	arch=paper-simple input=1x28x28
	train=$data/train-images-idx3-ubyte.gz test=$data/t10k-images-idx3-ubyte.gz
fi
for f in "$train" "$test"; do
	[ -e "$f" ] || { echo "paper.sh: $f not found; install dataset-fashion-mnist (make setup) or pass --data/--cifar" >&2; exit 1; }
done

make --no-print-directory build >/dev/null
og=bin/onnxguard
mkdir -p "$work"
start=$(date +%s)
limits=(--limit "$train_limit")
tlimits=(--limit "$test_limit")

step() { echo "== $*" >&2; }

step "init $arch"
$og init --arch "$arch" --input "$input" --seed 1 --out "$work/init.onnx"

step "baseline: clean training, $clean_epochs epochs"
rm -rf "$work/baseline.onnx.checkpoints"
$og harden -m "$work/init.onnx" -d "$train" "${limits[@]}" --val "$test" --val-limit 2000 \
	--recipe clean --eps "$eps" --epochs "$clean_epochs" --seed 1 --autoattack none --out "$work/baseline.onnx"

attacks=fgsm,pgd
[ "$autoattack" = none ] || attacks=$attacks,$autoattack
audit() {
	$og audit -m "$1" -d "$test" "${tlimits[@]}" --eps "$eps" --attacks "$attacks" --aa-iters "$aa_iters" --batch 256 --report "$2"
}
step "audit the baseline"
audit "$work/baseline.onnx" "$work/audit-clean"

args=(clean="$work/audit-clean")
for r in $recipes; do
	step "harden the baseline: recipe $r, $epochs epochs"
	rm -rf "$work/$r.onnx.checkpoints"
	t0=$(date +%s)
	# The audit below runs AutoAttack on the test set; harden's own
	# AutoAttack audit of its validation slice is skipped.
	$og harden -m "$work/baseline.onnx" -d "$train" "${limits[@]}" --val "$test" --val-limit 2000 \
		--recipe "$r" --eps "$eps" --epochs "$epochs" --seed 1 --autoattack none --out "$work/$r.onnx"
	t1=$(date +%s)
	step "audit the $r model"
	audit "$work/$r.onnx" "$work/audit-$r"
	echo $((t1 - t0)) >"$work/audit-$r/train_seconds"
	args+=("$r=$work/audit-$r")
done

secs=$(( $(date +%s) - start ))
{
	go run ./scripts/papertable "${args[@]}"
	echo
	echo "Measured on ONNX Runtime over the exported files; $(date -u +%F), $(nproc) cores, $((secs / 60)) min $((secs % 60)) s in all" \
		"(train limit ${train_limit/#0/none}, test limit ${test_limit/#0/none}, clean epochs $clean_epochs, hardening epochs $epochs)."
} | tee "$work/table.md"
