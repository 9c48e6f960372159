#!/usr/bin/env bash
# setup.sh prepares a fresh Debian 12 machine that has Go for onnxguard:
#   1. Debian packages: ONNX's operator conformance tests (libonnx-testdata),
#      the real Fashion-MNIST files (dataset-fashion-mnist), OpenBLAS
#      (libopenblas-dev, the fast matrix path), protoc and onnx.proto (to
#      regenerate onnx/onnx.pb.go), Node.js/npm to fetch ONNX Runtime, and
#      chromium and fonts-liberation (the headless browser that renders
#      report.html in the tests, and fonts for its text);
#   2. the ONNX Runtime 1.24.1 shared library, through scripts/setup-ort.sh;
#   3. the Go modules (go mod download) and the onnxguard binary in bin/.
# It installs only what is missing; run it again at any time.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

packages=(libonnx-testdata dataset-fashion-mnist libopenblas-dev protobuf-compiler libonnx-dev chromium fonts-liberation)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	sudo=""
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null 2>&1 || { echo "setup: error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
		sudo=sudo
	fi
	say "installing Debian packages: ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	say "Debian packages present: ${packages[*]}"
fi

bash scripts/setup-ort.sh

say "downloading Go modules"
go mod download
say "building bin/onnxguard"
make --no-print-directory build # with OpenBLAS, now that it is installed
say "done: try  bin/onnxguard eval --model testdata/models/fmnist_cnn.onnx --data testdata/fashion/t10k-images-1000-idx3-ubyte.gz"
