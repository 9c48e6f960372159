// Package onnx provides ONNX model I/O: Go types generated from the official
// onnx.proto, loading and saving model files (external tensor data included),
// and a validated graph view that the later stages of onnxguard build on.
//
// Load reads a model file and keeps the bytes it read, so that Save writes
// them back unchanged when nothing in the model was modified. Model.Graph
// checks the graph once (every node input produced, no cycle) and returns the
// nodes in topological order, the real inputs (initializers excluded, as old
// IR-3 exports list weights among the inputs), the outputs, and accessors
// for initializers decoded to float32 or int64, and for node attributes with
// the defaults of the operator specification.
package onnx

//go:generate sh -c "go build -o .protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go && protoc --plugin=protoc-gen-go=.protoc-gen-go --proto_path=/usr/include/onnx --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/onnxguard/onnxguard/onnx onnx.proto; s=$?; rm -f .protoc-gen-go; exit $s"
