package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// geluPatterns returns the registered GELU patterns.
func geluPatterns(t *testing.T) []Pattern {
	t.Helper()
	var found []Pattern
	for _, p := range Patterns() {
		if p.Name == "Gelu" {
			found = append(found, p)
		}
	}
	if len(found) != 2 {
		t.Fatalf("%d GELU patterns registered, want 2 (PyTorch's order and x·0.5 first)", len(found))
	}
	return found
}

// runChain computes a pattern's nodes apart, as the unfused graph does, on
// x with the constants consts: the output and, for dy, x's gradient
// summed over the steps that read x.
func runChain(t *testing.T, pat Pattern, consts []float32, x, dy *Tensor) (y, dx *Tensor) {
	t.Helper()
	outs := make([]*Tensor, len(pat.Steps))
	states, nodes := make([]*State, len(pat.Steps)), make([]Op, len(pat.Steps))
	ins := make([][]*Tensor, len(pat.Steps))
	next := 0
	for k, st := range pat.Steps {
		for _, o := range st.In {
			switch j, isStep := o.Step(); {
			case o.Input():
				ins[k] = append(ins[k], x)
			case isStep:
				ins[k] = append(ins[k], outs[j])
			default:
				ins[k] = append(ins[k], &Tensor{Shape: []int{}, Data: []float32{consts[next]}})
				next++
			}
		}
		states[k], nodes[k] = &State{Grad: true}, newOp(t, st.Type, nil, 13, len(st.In), 1)
		y, err := nodes[k].Forward(states[k], ins[k])
		if err != nil {
			t.Fatalf("step %d (%s): %v", k, st.Type, err)
		}
		outs[k] = y[0]
	}
	grads := make([]*Tensor, len(pat.Steps))
	grads[len(grads)-1] = dy
	dx = NewFloat(x.Shape...)
	for k := len(pat.Steps) - 1; k >= 0; k-- {
		st := pat.Steps[k]
		g, err := nodes[k].Backward(states[k], []*Tensor{grads[k]})
		if err != nil {
			t.Fatalf("step %d (%s) backward: %v", k, st.Type, err)
		}
		for i, o := range st.In {
			j, isStep := o.Step()
			switch {
			case o.Input():
				addInto(dx, g[i])
			case isStep && grads[j] == nil:
				grads[j] = g[i]
			case isStep:
				addInto(grads[j], g[i])
			}
		}
	}
	return outs[len(outs)-1], dx
}

func addInto(dst, src *Tensor) {
	for i, v := range src.Data {
		dst.Data[i] += v
	}
}

// TestGeluPatternsMatchChain checks the op each GELU pattern builds
// against central differences, and against the pattern's nodes run apart
// on the same data: the forward pass gives the same bits, the input
// gradient agrees to float rounding.
func TestGeluPatternsMatchChain(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	consts := []float32{math.Sqrt2, 1, 0.5}
	for pi, pat := range geluPatterns(t) {
		fused, ok := pat.Op(consts)
		if !ok {
			t.Fatalf("pattern %d refuses the constants %v", pi, consts)
		}
		gradCheck(t, "GELU pattern", fused, []*Tensor{randTensor(rng, -4, 4, 2, 3, 4)})
		for _, scale := range []float32{1, 4, 12} {
			x := randTensor(rng, -scale, scale, 3, 5, 7)
			dy := randTensor(rng, -1, 1, 3, 5, 7)
			want, wantDx := runChain(t, pat, consts, x, dy)
			s := &State{Grad: true}
			got, err := fused.Forward(s, []*Tensor{x})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got[0].Data, want.Data) {
				t.Errorf("pattern %d, |x| < %v: fused forward differs from the chain's", pi, scale)
			}
			dx, err := fused.Backward(s, []*Tensor{dy})
			if err != nil {
				t.Fatal(err)
			}
			for i := range dx[0].Data {
				g, w := float64(dx[0].Data[i]), float64(wantDx.Data[i])
				if math.Abs(g-w) > 1e-6*math.Max(math.Abs(w), 1) {
					t.Errorf("pattern %d, x = %v: gradient %v fused, %v apart", pi, x.Data[i], g, w)
				}
			}
		}
	}
}

// TestGeluPatternConstants checks what the constant operands accept: √2
// as float32 rounds it, and exactly 1 and 0.5; their float32 neighbours
// are refused.
func TestGeluPatternConstants(t *testing.T) {
	want := []float32{math.Sqrt2, 1, 0.5}
	for pi, pat := range geluPatterns(t) {
		var got []Operand
		for _, st := range pat.Steps {
			for _, o := range st.In {
				if o.Constant() {
					got = append(got, o)
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("pattern %d has %d constants, want %d", pi, len(got), len(want))
		}
		for i, o := range got {
			v := want[i]
			if !o.Accepts(v) {
				t.Errorf("pattern %d: constant %d refuses %v", pi, i, v)
			}
			for _, near := range []float32{math.Nextafter32(v, 0), math.Nextafter32(v, 2), -v} {
				if o.Accepts(near) {
					t.Errorf("pattern %d: constant %d accepts %v (want %v)", pi, i, near, v)
				}
			}
		}
		if _, ok := pat.Op(want[:2]); ok {
			t.Errorf("pattern %d builds its op from two constants", pi)
		}
	}
}

// TestGelu checks the opset-20 operator: approximate="none" is the op the
// patterns build, bit for bit; "tanh" follows its float64 formula; both
// pass central differences; another setting is refused.
func TestGelu(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 21))
	exact := newOp(t, "Gelu", nil, 20, 1, 1)
	tanh := newOp(t, "Gelu", attrs{"approximate": "tanh"}, 20, 1, 1)
	x := randTensor(rng, -4, 4, 2, 3, 4)
	gradCheck(t, "Gelu", exact, []*Tensor{x})
	gradCheck(t, "Gelu tanh", tanh, []*Tensor{x})

	fused, _ := geluPatterns(t)[0].Op([]float32{math.Sqrt2, 1, 0.5})
	dy := randTensor(rng, -1, 1, 2, 3, 4)
	var ys, dxs [2][]float32
	for i, op := range []Op{exact, fused} {
		s := &State{Grad: true}
		y, err := op.Forward(s, []*Tensor{x})
		if err != nil {
			t.Fatal(err)
		}
		dx, err := op.Backward(s, []*Tensor{dy})
		if err != nil {
			t.Fatal(err)
		}
		ys[i], dxs[i] = y[0].Data, dx[0].Data
	}
	if !slices.Equal(ys[0], ys[1]) || !slices.Equal(dxs[0], dxs[1]) {
		t.Error("Gelu and the fused pattern differ")
	}

	y, err := tanh.Forward(&State{}, []*Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range x.Data {
		w := float64(v)
		want := 0.5 * w * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(w+0.044715*w*w*w)))
		if math.Abs(float64(y[0].Data[i])-want) > 1e-6*math.Max(math.Abs(want), 1) {
			t.Errorf("Gelu tanh at %v: %v, want %v", v, y[0].Data[i], want)
		}
	}
	if _, err := New(makeNode(t, "Gelu", attrs{"approximate": "erf"}, 1, 1), 20, ""); err == nil {
		t.Error(`Gelu accepts approximate="erf"`)
	}
	if Supported("Gelu", 19) {
		t.Error("Gelu is supported at opset 19")
	}
}
