//go:build cgo

package ort

import (
	"sync"

	"google.golang.org/protobuf/proto"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/onnxguard/onnxguard/onnx"
)

var nchwcProbe struct {
	once  sync.Once
	block int
}

// NCHWcBlock returns the channel block of the CPU provider's NCHWc kernels
// in the library opt names (16 where they run on AVX-512, 8 on AVX2), or 0
// where it has none or they cannot be probed: a graph written for one
// block size computes garbage on another, so the size is read from the
// library itself, once a process, by reordering a 4-channel tensor and
// reading how many channels the blocked one has. It loads the library as
// Open does, and takes the environment's lock: it must not be called
// from inside quietly.
func NCHWcBlock(opt *Options) int {
	set, err := opt.settings()
	if err != nil {
		return 0
	}
	if _, err = loadLibrary(set.library, set.verbose); err != nil {
		return 0
	}
	return loadedNCHWcBlock()
}

// loadedNCHWcBlock is NCHWcBlock once the library is loaded.
func loadedNCHWcBlock() int {
	nchwcProbe.once.Do(func() { nchwcProbe.block = probeNCHWc() })
	return nchwcProbe.block
}

// probeNCHWc runs ReorderInput on a [1, 4, 1, 1] tensor: the result has
// the channels rounded up to the block.
func probeNCHWc() int {
	data, err := probeModel()
	if err != nil {
		return 0
	}
	opts, err := sessionOptions(1, false, false, false, false)
	if err != nil {
		return 0
	}
	defer opts.Destroy()
	var sess *ortgo.DynamicAdvancedSession
	quietly(func() {
		sess, err = ortgo.NewDynamicAdvancedSessionWithONNXData(data, []string{"x"}, []string{"y"}, opts)
	})
	if err != nil {
		return 0
	}
	defer sess.Destroy()
	x, err := ortgo.NewTensor(ortgo.NewShape(1, 4, 1, 1), make([]float32, 4))
	if err != nil {
		return 0
	}
	defer x.Destroy()
	out := []ortgo.Value{nil}
	if err := sess.Run([]ortgo.Value{x}, out); err != nil {
		return 0
	}
	defer out[0].Destroy()
	s := out[0].GetShape()
	if len(s) != 4 || s[1] <= 4 || s[1]%4 != 0 {
		return 0 // unblocked (a block of 1 leaves 4 channels) or not understood
	}
	return int(s[1])
}

// probeModel is y = ReorderInput(x), x float [1, 4, 1, 1].
func probeModel() ([]byte, error) {
	vi := func(name string) *onnx.ValueInfoProto {
		tt := &onnx.TypeProto_Tensor{ElemType: proto.Int32(int32(onnx.TensorProto_FLOAT))}
		return &onnx.ValueInfoProto{Name: proto.String(name), Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: tt}}}
	}
	g := &onnx.GraphProto{Name: proto.String("nchwc_probe"),
		Node: []*onnx.NodeProto{{OpType: proto.String("ReorderInput"), Domain: proto.String(NCHWcDomain),
			Input: []string{"x"}, Output: []string{"y"}}},
		Input: []*onnx.ValueInfoProto{vi("x")}, Output: []*onnx.ValueInfoProto{vi("y")}}
	m := &onnx.ModelProto{IrVersion: proto.Int64(8), Graph: g, OpsetImport: []*onnx.OperatorSetIdProto{
		{Domain: proto.String(""), Version: proto.Int64(13)}, {Domain: proto.String(NCHWcDomain), Version: proto.Int64(1)}}}
	return proto.Marshal(m)
}
