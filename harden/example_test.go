package harden_test

import (
	"context"
	"fmt"
	"log"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/harden"
	"github.com/onnxguard/onnxguard/onnx"
)

// A whole hardening without the CLI: the seed paper's recipe for two
// epochs on Fashion-MNIST, the result written to hardened.onnx, checked
// on ONNX Runtime and measured before and after.
func ExampleRun() {
	const modelPath = "testdata/models/fmnist_cnn.onnx"
	model, err := onnx.Load(modelPath)
	if err != nil {
		log.Fatal(err)
	}
	read := func(path string) *harden.Data {
		src, err := dataset.Open(path, nil)
		if err != nil {
			log.Fatal(err)
		}
		defer src.Close()
		d, err := harden.ReadAll(src)
		if err != nil {
			log.Fatal(err)
		}
		return d
	}
	rep, err := harden.Run(context.Background(), &harden.RunConfig{
		Training:  harden.Config{Recipe: harden.Paper, Eps: 0.1, Epochs: 2},
		Model:     model,
		ModelPath: modelPath,
		Train:     read("testdata/fashion/train-images-2000-idx3-ubyte.gz"),
		Val:       read("testdata/fashion/t10k-images-1000-idx3-ubyte.gz"),
		Out:       "hardened.onnx",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("best epoch %d; FGSM accuracy %.2f → %.2f; ONNX Runtime within %.1g of the interpreter\n",
		rep.BestEpoch, rep.Before.FGSM, rep.After.FGSM, rep.MaxRelError)
}
