package ops

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, test := range []struct {
		name  string
		op    string
		attrs attrs
		in    func() []*Tensor
		nIn   int
	}{
		{"relu", "Relu", nil, func() []*Tensor { return []*Tensor{awayFrom(randTensor(rng, -1, 1, 2, 3, 4), 0.05, 0)} }, 1},
		{"add broadcast", "Add", nil, func() []*Tensor {
			return []*Tensor{randTensor(rng, -1, 1, 2, 3, 4), randTensor(rng, -1, 1, 3, 1)}
		}, 2},
		{"conv", "Conv", attrs{"pads": []int64{1, 1, 1, 1}}, func() []*Tensor {
			return []*Tensor{randTensor(rng, -1, 1, 2, 3, 5, 5), randTensor(rng, -1, 1, 4, 3, 3, 3), randTensor(rng, -1, 1, 4)}
		}, 3},
		{"conv groups strides dilations", "Conv", attrs{"group": 2, "strides": []int64{2, 1}, "dilations": []int64{1, 2}, "pads": []int64{0, 1, 1, 2}}, func() []*Tensor {
			return []*Tensor{randTensor(rng, -1, 1, 2, 4, 6, 7), randTensor(rng, -1, 1, 6, 2, 3, 2)}
		}, 2},
		{"conv depthwise same", "Conv", attrs{"group": 3, "auto_pad": "SAME_UPPER", "strides": []int64{2, 2}}, func() []*Tensor {
			return []*Tensor{randTensor(rng, -1, 1, 1, 3, 6, 6), randTensor(rng, -1, 1, 3, 1, 3, 3), randTensor(rng, -1, 1, 3)}
		}, 3},
		{"conv groups dilations unit stride", "Conv", attrs{"group": 2, "dilations": []int64{2, 1}, "pads": []int64{2, 0, 1, 1}}, func() []*Tensor {
			return []*Tensor{randTensor(rng, -1, 1, 2, 4, 6, 5), randTensor(rng, -1, 1, 4, 2, 3, 2), randTensor(rng, -1, 1, 4)}
		}, 3},
		{"conv padding beyond the kernel", "Conv", attrs{"pads": []int64{2, 1, 0, 3}}, func() []*Tensor {
			return []*Tensor{randTensor(rng, -1, 1, 1, 2, 4, 4), randTensor(rng, -1, 1, 3, 2, 1, 2)}
		}, 2},
		{"conv 1d", "Conv", attrs{"pads": []int64{1, 0}}, func() []*Tensor {
			return []*Tensor{randTensor(rng, -1, 1, 2, 2, 7), randTensor(rng, -1, 1, 3, 2, 3)}
		}, 2},
	} {
		gradCheck(t, test.name, newOp(t, test.op, test.attrs, 13, test.nIn, 1), test.in())
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(makeNode(t, "FancyOp", nil, 1, 1), 13, ""); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown op: got %v, want ErrUnsupported", err)
	}
	if _, err := New(makeNode(t, "Conv", attrs{"auto_pad": "SIDEWAYS"}, 2, 1), 13, ""); err == nil {
		t.Error("bad auto_pad: got no error")
	}
}

// TestConvNeeds checks that Conv skips exactly the gradients not asked for
// and that the others do not change.
func TestConvNeeds(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	in := []*Tensor{randTensor(rng, -1, 1, 3, 2, 5, 5), randTensor(rng, -1, 1, 4, 2, 3, 3), randTensor(rng, -1, 1, 4)}
	op := newOp(t, "Conv", attrs{"pads": []int64{1, 1, 1, 1}}, 13, 3, 1)
	backward := func(need []bool) []*Tensor {
		s := &State{Grad: true}
		y, err := op.Forward(s, in)
		if err != nil {
			t.Fatal(err)
		}
		dy := randTensor(rand.New(rand.NewPCG(9, 9)), -1, 1, y[0].Shape...)
		s.Need = need
		g, err := op.Backward(s, []*Tensor{dy})
		if err != nil {
			t.Fatal(err)
		}
		return append(g, make([]*Tensor, 3-len(g))...)
	}
	all := backward(nil)
	for _, need := range [][]bool{{true, false, false}, {false, true, true}, {false, false, true}} {
		got := backward(need)
		for i, g := range got {
			switch {
			case !need[i] && g != nil:
				t.Errorf("need %v: gradient %d computed", need, i)
			case need[i] && g == nil:
				t.Errorf("need %v: gradient %d missing", need, i)
			case need[i] && !slices.Equal(g.Shape, all[i].Shape):
				t.Errorf("need %v: gradient %d has shape %v, want %v", need, i, g.Shape, all[i].Shape)
			case need[i]:
				for j := range g.Data {
					if g.Data[j] != all[i].Data[j] {
						t.Errorf("need %v: gradient %d [%d] = %v, want %v", need, i, j, g.Data[j], all[i].Data[j])
						break
					}
				}
			}
		}
	}
}

// TestFuseRelu checks that a Conv with a Relu folded in gives exactly what
// the Conv followed by the Relu gives, forward and backward, and that
// fuseRelu refuses the ops it cannot fuse.
func TestFuseRelu(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, test := range []struct {
		name  string
		attrs attrs
		in    []*Tensor
	}{
		{"pads bias", attrs{"pads": []int64{1, 1, 1, 1}},
			[]*Tensor{randTensor(rng, -1, 1, 3, 3, 5, 5), randTensor(rng, -1, 1, 4, 3, 3, 3), randTensor(rng, -1, 1, 4)}},
		{"groups strides dilations", attrs{"group": 2, "strides": []int64{2, 1}, "dilations": []int64{1, 2}, "pads": []int64{0, 1, 1, 2}},
			[]*Tensor{randTensor(rng, -1, 1, 4, 4, 6, 7), randTensor(rng, -1, 1, 6, 2, 3, 2)}},
		{"1d", attrs{"pads": []int64{1, 0}},
			[]*Tensor{randTensor(rng, -1, 1, 2, 2, 7), randTensor(rng, -1, 1, 3, 2, 3), randTensor(rng, -1, 1, 3)}},
	} {
		conv := newOp(t, "Conv", test.attrs, 13, len(test.in), 1)
		relu := newOp(t, "Relu", nil, 13, 1, 1)
		fused, ok := fuseRelu(conv)
		if !ok {
			t.Fatalf("%s: fuseRelu refused a Conv", test.name)
		}
		cs, rs, fs := &State{Grad: true}, &State{Grad: true}, &State{Grad: true}
		z := forwardNN(t, conv, cs, test.in...)
		want := forwardNN(t, relu, rs, z...)[0]
		got := forwardNN(t, fused, fs, test.in...)[0]
		if !slices.Equal(got.Shape, want.Shape) || !slices.Equal(got.Data, want.Data) {
			t.Errorf("%s: fused forward %v differs from Conv then Relu %v", test.name, got, want)
		}
		dy := randTensor(rng, -1, 1, want.Shape...)
		dz, err := relu.Backward(rs, []*Tensor{dy})
		if err != nil {
			t.Fatal(err)
		}
		wantGrads, err := conv.Backward(cs, dz)
		if err != nil {
			t.Fatal(err)
		}
		gotGrads, err := fused.Backward(fs, []*Tensor{dy})
		if err != nil {
			t.Fatal(err)
		}
		for i := range test.in {
			if !slices.Equal(gotGrads[i].Data, wantGrads[i].Data) {
				t.Errorf("%s: fused gradient of input %d differs from Conv then Relu's", test.name, i)
			}
		}
	}
	for _, op := range []string{"Relu", "Gemm", "ConvTranspose"} {
		if _, ok := fuseRelu(newOp(t, op, nil, 13, 2, 1)); ok {
			t.Errorf("fuseRelu fused a %s", op)
		}
	}
	if f, _ := fuseRelu(newOp(t, "Conv", nil, 13, 2, 1)); f != nil {
		if _, ok := fuseRelu(f); ok {
			t.Error("fuseRelu fused a second Relu into a Conv")
		}
	}
}
