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

.PHONY: all setup build demo test test-openblas vet bench generate clean

all: build

setup:
	bash scripts/setup.sh

build:
	$(GO) build $(BLAS_TAGS) -o bin/onnxguard ./cmd/onnxguard

# The main job on built-in data: a PyTorch-trained Fashion-MNIST CNN and the
# first 1000 images of the real Fashion-MNIST test set, both under testdata/.
demo: build
	bin/onnxguard inspect --model testdata/models/fmnist_cnn.onnx
	bin/onnxguard eval --model testdata/models/fmnist_cnn.onnx --data testdata/fashion/t10k-images-1000-idx3-ubyte.gz

vet:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./onnx/... ./dataset/... ./runtime/interp/... ./harden/...

test: vet
	$(GO) test ./...
	@$(GO) test -run TestNodeConformance -v ./runtime/interp/ | grep '^conformance:'
	@$(MAKE) --no-print-directory test-openblas

# The interpreter's tests again on the OpenBLAS path, so both paths pass.
test-openblas:
ifneq ($(BLAS_TAGS),)
	$(GO) vet $(BLAS_TAGS) ./runtime/interp/...
	$(GO) test $(BLAS_TAGS) ./runtime/interp/...
else
	@echo "test-openblas: skipped, BLAS_TAGS is empty (no OpenBLAS cblas.h and libopenblas found, or BLAS_TAGS= given)"
endif

# The interpreter beside ONNX Runtime on the benchmark models (forward,
# FGSM step, training step), and the matrix multiply alone: on gonum's
# pure-Go BLAS, then on OpenBLAS where it is installed.
BENCH = $(GO) test -run '^$$' -bench . -benchtime 3x ./runtime/interp/ 2>&1 && \
	$(GO) test -run '^$$' -bench 'Sgemm|GemmConv' ./runtime/interp/ops/ 2>&1

bench:
	{ $(BENCH); } | awk -f scripts/benchtable.awk
ifneq ($(BLAS_TAGS),)
	{ $(subst $(GO) test,$(GO) test $(BLAS_TAGS),$(BENCH)); } | awk -f scripts/benchtable.awk
endif

generate:
	$(GO) generate ./onnx/

clean:
	rm -rf bin
