# The interface to the project: make setup, make demo, make test, make bench.
GO ?= go

.PHONY: all setup build demo test vet bench generate clean

all: build

setup:
	bash scripts/setup.sh

build:
	$(GO) build -o bin/onnxguard ./cmd/onnxguard

# The main job on built-in data: a PyTorch-trained Fashion-MNIST CNN and the
# first 1000 images of the real Fashion-MNIST test set, both under testdata/.
demo: build
	bin/onnxguard inspect --model testdata/models/fmnist_cnn.onnx
	bin/onnxguard eval --model testdata/models/fmnist_cnn.onnx --data testdata/fashion/t10k-images-1000-idx3-ubyte.gz

vet:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./onnx/... ./dataset/... ./runtime/interp/...

test: vet
	$(GO) test ./...
	@$(GO) test -run TestNodeConformance -v ./runtime/interp/ | grep '^conformance:'

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./runtime/interp/

generate:
	$(GO) generate ./onnx/

clean:
	rm -rf bin
