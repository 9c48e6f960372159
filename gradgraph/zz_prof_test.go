//go:build cgo

package gradgraph

import (
	"os"
	"testing"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

func TestZZProfile(t *testing.T) {
	file := os.Getenv("PROF_MODEL")
	if file == "" {
		t.Skip()
	}
	m, _ := onnx.Load(file)
	g, err := Build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	lib, _ := ort.FindLibrary("")
	ortgo.SetSharedLibraryPath(lib)
	if err := ortgo.InitializeEnvironment(); err != nil {
		t.Fatal(err)
	}
	data, _ := g.Model.Marshal()
	opts, _ := ortgo.NewSessionOptions()
	opts.SetIntraOpNumThreads(2)
	opts.EnableProfiling("/tmp/gradprof")
	sess, err := ortgo.NewDynamicAdvancedSessionWithONNXData(data, []string{g.Input, g.Labels}, []string{g.Logits, g.Loss, g.InputGrad}, opts)
	if err != nil {
		t.Fatal(err)
	}
	batch := int64(128)
	gr, _ := m.Graph()
	shape := []int64{batch}
	n := batch
	for _, d := range gr.Inputs[0].Shape[1:] {
		shape = append(shape, d)
		n *= d
	}
	xt, _ := ortgo.NewTensor(ortgo.NewShape(shape...), make([]float32, n))
	yt, _ := ortgo.NewTensor(ortgo.NewShape(batch), make([]int64, batch))
	for range 5 {
		outs := make([]ortgo.Value, 3)
		if err := sess.Run([]ortgo.Value{xt, yt}, outs); err != nil {
			t.Fatal(err)
		}
	}
	sess.Destroy()
}
