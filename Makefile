# The interface to the project: make setup, make demo, make test, make bench.
GO ?= go

# The OpenBLAS fast path (runtime/interp/ops/blas_openblas.go) is built
# where OpenBLAS's cblas.h and libopenblas are installed (Debian's
# libopenblas-dev): BLAS_TAGS is then -tags openblas. BLAS_TAGS= on the
# command line builds the pure-Go path.
ifeq ($(origin BLAS_TAGS),undefined)
BLAS_TAGS := $(shell printf '\043include <cblas.h>\nint main(void) { openblas_set_num_threads(1); return 0; }\n' | \
	$(CC) -x c - -lopenblas -o /dev/null 2>/dev/null && echo -tags openblas)
endif

.PHONY: all setup build demo paper test test-openblas test-portable vet bench arch-models fuzz fuzz-short generate clean image image-test

all: build

setup:
	bash scripts/setup.sh

build:
	$(GO) build $(BLAS_TAGS) -o bin/onnxguard ./cmd/onnxguard

# The whole pipeline on built-in data: a PyTorch-trained Fashion-MNIST CNN,
# 2000 real Fashion-MNIST training images and the first 1000 test images, all
# under testdata/. Audit the model, harden it (paper recipe, ε = 0.1),
# export it, audit the exported file on ONNX Runtime, compare before and
# after (demo/compare/report.html; each audit has its own report.html).
DEMO_MODEL = testdata/models/fmnist_cnn.onnx
DEMO_TRAIN = testdata/fashion/train-images-2000-idx3-ubyte.gz
DEMO_TEST  = testdata/fashion/t10k-images-1000-idx3-ubyte.gz
DEMO_NAMES = testdata/fashion/classes.txt
DEMO_DIR  ?= demo

demo: build
	@mkdir -p $(DEMO_DIR) && rm -rf $(DEMO_DIR)/hardened.onnx.checkpoints
	bin/onnxguard inspect --model $(DEMO_MODEL)
	bin/onnxguard audit --model $(DEMO_MODEL) --data $(DEMO_TEST) --eps 0.03,0.1 --attacks fgsm,pgd --class-names $(DEMO_NAMES) --report $(DEMO_DIR)/audit-before
	bin/onnxguard harden --model $(DEMO_MODEL) --data $(DEMO_TRAIN) --val $(DEMO_TEST) --recipe paper --eps 0.1 --epochs 2 --autoattack none --out $(DEMO_DIR)/hardened.onnx
	bin/onnxguard audit --model $(DEMO_DIR)/hardened.onnx --data $(DEMO_TEST) --eps 0.03,0.1 --attacks fgsm,pgd --class-names $(DEMO_NAMES) --report $(DEMO_DIR)/audit-after
	bin/onnxguard report compare --out $(DEMO_DIR)/compare $(DEMO_DIR)/audit-before $(DEMO_DIR)/audit-after
	@$(GO) run ./scripts/papertable before=$(DEMO_DIR)/audit-before after=$(DEMO_DIR)/audit-after

# The seed paper end to end on Debian's real Fashion-MNIST (see
# scripts/paper.sh for its options: PAPER_ARGS="--train-limit 10000").
paper: build
	bash scripts/paper.sh $(PAPER_ARGS)

vet:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./...

test: vet
	$(GO) test ./...
	@$(GO) test -run TestNodeConformance -v ./runtime/interp/ | grep '^conformance:'
	@$(MAKE) --no-print-directory test-openblas
	@$(MAKE) --no-print-directory test-portable

# Where the CPU has the vector kernels (amd64 with AVX-512F: the direct
# convolution, the 2×2 max pool), the operators take them; the
# interpreter's tests run again built with the purego tag, which leaves
# the assembly out: a program's default (interp.KernelsAuto) then takes the
# portable paths (im2col and the matrix multiply, the Go pooling loops),
# and the tests that force the kernel paths run on their pure-Go twins.
test-portable:
	$(GO) test -count=1 -tags purego ./runtime/interp/...
	$(GO) test -count=1 -tags purego ./harden/internal/adam/
	@# Adam's Go loop must not be fused into multiply-adds where the
	@# compiler may (GOAMD64=v3), or its bits would leave the assembly's.
	@if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then GOAMD64=v3 $(GO) test -count=1 ./harden/internal/adam/; fi

# The interpreter's tests again on the OpenBLAS path, so both paths pass.
test-openblas:
ifneq ($(BLAS_TAGS),)
	$(GO) vet $(BLAS_TAGS) ./runtime/interp/...
	$(GO) test $(BLAS_TAGS) ./runtime/interp/...
else
	@echo "test-openblas: skipped, BLAS_TAGS is empty (no OpenBLAS cblas.h and libopenblas found, or BLAS_TAGS= given)"
endif

# The interpreter beside ONNX Runtime on the benchmark models (forward,
# FGSM step, training step, and the paper recipe's whole step through
# harden, counted as B images: FGSM on B, then every weight gradient of the
# 2B clean and adversarial samples, the clean half's from the FGSM pass
# where the model allows, and AdamW), load and compile times, and the
# matrix multiply and direct convolution on one core, and the samples per
# second of AutoAttack's stages: on gonum's pure-Go BLAS, then on
# OpenBLAS where it is installed.
# The deployed architectures run ARCH_COUNT times at ARCH_BENCHTIME (a
# batch of ResNet-50's training step takes seconds), the rest 3 times.
# Last, the FGSM step on the engine --grad-engine auto opens for each
# model and the paper step on the engine harden's auto trains on, AUTO_COUNT
# times, and the table of issue 19's targets.
ARCH_COUNT ?= 1
AUTO_COUNT ?= 3
ARCH_BENCHTIME ?= 2x
BENCH = $(GO) test -run '^$$' -bench '^Benchmark(MNIST|CIFAR|Compile)' -benchtime 1s -count 3 ./runtime/interp/ 2>&1 && \
	$(GO) test -run '^$$' -bench '^Benchmark(MNIST|CIFAR)PaperStep' -benchtime 1s -count 3 ./harden/ 2>&1 && \
	$(GO) test -run '^$$' -bench 'Sgemm|GemmConv|DirectConv' -count 3 ./runtime/interp/ops/ ./runtime/interp/ops/internal/gemm/ 2>&1 && \
	$(GO) test -run '^$$' -bench Attacks -benchtime 1x -count 3 ./fgsm/ 2>&1 && \
	$(GO) test -run '^$$' -bench 'GradGraph/(mnist|cifar)$$' -benchtime 3x -count 3 ./gradgraph/ 2>&1 && \
	$(GO) test -run '^$$' -bench '^BenchmarkArch$$' -benchtime $(ARCH_BENCHTIME) -count $(ARCH_COUNT) -timeout 60m ./runtime/interp/ 2>&1 && \
	$(GO) test -run '^$$' -bench '^BenchmarkArchPaperStep$$' -benchtime 1x -count $(ARCH_COUNT) -timeout 60m ./harden/ 2>&1 && \
	$(GO) test -run '^$$' -bench 'GradGraph/' -skip 'GradGraph/(mnist|cifar)$$' -benchtime $(ARCH_BENCHTIME) -count $(ARCH_COUNT) -timeout 60m ./gradgraph/ 2>&1 && \
	$(GO) test -run '^$$' -bench 'Auto/bench_' -benchtime 1s -count $(AUTO_COUNT) ./gradengine/ 2>&1 && \
	$(GO) test -run '^$$' -bench 'Auto/' -skip 'Auto/bench_' -benchtime $(ARCH_BENCHTIME) -count $(AUTO_COUNT) -timeout 60m ./gradengine/ 2>&1 && \
	$(GO) test -run '^$$' -bench '^BenchmarkAutoPaperStep$$' -benchtime 1x -count $(AUTO_COUNT) -timeout 60m ./harden/ 2>&1

bench: arch-models
	{ $(BENCH); } | awk -f scripts/benchtable.awk
ifneq ($(BLAS_TAGS),)
	{ $(subst $(GO) test,$(GO) test $(BLAS_TAGS),$(BENCH)); } | awk -f scripts/benchtable.awk
endif

# The deployed architectures of the benchmark (ResNet-50, MobileNet-V2/V3,
# EfficientNet-B0, ConvNeXt-T, ViT-B/16), exported with random weights by
# Debian's python3-torch into ~/.cache/onnxguard/arch-models on first use
# (hundreds of MB, never into git); without python3-torch the benchmarks
# that need them skip and say so.
arch-models:
	@if /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then \
		/usr/bin/python3 testdata/make_arch_models.py; \
	else \
		echo "arch-models: python3-torch and python3-torchvision are not installed; the deployed-architecture benchmarks will skip"; \
	fi

# The container image of the README's Kubernetes recipe, built with podman
# from a debootstrap'd Debian 12 (no registry), and the recipe run in it on
# the built-in data: eight shard containers, the merge, compared with one
# run on the host. Needs root.
image:
	bash scripts/image.sh

image-test: image
	bash scripts/image-test.sh

# Every Go fuzz target of the repository (go test -list finds them), one
# after the other, for FUZZTIME each; FUZZPARALLEL=1 keeps to one worker,
# FUZZ=regexp picks targets. A crasher lands in testdata/fuzz/ of its package:
# commit it, and it runs as a test from then on. fuzz-short is CI's run.
FUZZTIME ?= 10m
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

# fuzz-short counts inputs, not seconds: a timed run whose cached corpus
# takes longer to replay than its time fails with "context deadline
# exceeded" before it fuzzes at all (FuzzCompileAttr's 1800 inputs did).
fuzz-short:
	GO=$(GO) FUZZTIME=2000x bash scripts/fuzz.sh

generate:
	$(GO) generate ./onnx/ ./runtime/interp/ops/internal/kernel/

clean:
	rm -rf bin
