package gradgraph

import "github.com/onnxguard/onnxguard/onnx"

// Clip (min and max as inputs, opset 11 on): dx = dy where min ≤ x ≤ max;
// the bounds get the sums of dy where x fell below or above them. A bound
// above max wins, as in the interpreter.
//
// Where the bounds need no gradient (ReLU6 and its kin), the mask is read
// from y alone, min < y < max: x is then dead once the Clip has run, and
// ONNX Runtime fuses the Clip into the Conv before it (a second reader of x
// keeps it from doing so, and costs a layout reorder of x per layer, 7-11%
// of MobileNet-V2's gradient graph). At a tie, x exactly at a bound, this
// passes no gradient (PyTorch's hardtanh_backward does the same) where the
// interpreter passes it; the two differ there only.
func init() {
	register("Clip", func(b *builder, n *onnx.Node, dy []string) ([]string, error) {
		x, g := n.Inputs[0], dy[0]
		out := make([]string, len(n.Inputs))
		if !b.needs(n, 1) && !b.needs(n, 2) {
			out[0] = b.clipOpen(n, g)
			return out, nil
		}
		lo, hi := "", ""
		if len(n.Inputs) > 1 && n.Inputs[1] != "" {
			lo = n.Inputs[1]
		}
		if len(n.Inputs) > 2 && n.Inputs[2] != "" {
			hi = n.Inputs[2]
		}
		inside := ""
		var below, above string
		if lo != "" {
			below = b.op("Less", []string{x, lo})
			inside = b.op("Not", []string{below})
		}
		if hi != "" {
			v := x
			if lo != "" {
				v = b.op("Max", []string{x, lo})
			}
			above = b.op("Greater", []string{v, hi})
			notAbove := b.op("Not", []string{above})
			if inside == "" {
				inside = notAbove
			} else {
				inside = b.op("And", []string{inside, notAbove})
			}
		}
		if inside == "" {
			return []string{g}, nil
		}
		out[0] = b.where(inside, g)
		if b.needs(n, 1) {
			mask := below
			if above != "" {
				mask = b.op("And", []string{below, b.op("Not", []string{above})})
			}
			out[1] = b.op("ReduceSum", []string{b.where(mask, g)}, aInt("keepdims", 0))
		}
		if b.needs(n, 2) {
			out[2] = b.op("ReduceSum", []string{b.where(above, g)}, aInt("keepdims", 0))
		}
		return out, nil
	})
}

// clipOpen returns dy where min < y < max, either bound absent when its
// input is (gradient graphs start at opset 13, where the bounds are inputs).
// Constant bounds make the mask steps of y (see step), else comparisons.
func (b *builder) clipOpen(n *onnx.Node, g string) string {
	y := n.Outputs[0]
	var lo, hi string
	if len(n.Inputs) > 1 {
		lo = n.Inputs[1]
	}
	if len(n.Inputs) > 2 {
		hi = n.Inputs[2]
	}
	if lo == "" && hi == "" {
		return g
	}
	loV, loConst := b.scalarConst(lo)
	hiV, hiConst := b.scalarConst(hi)
	if (loConst || lo == "") && (hiConst || hi == "") {
		switch {
		case lo == "":
			return b.op("Mul", []string{g, b.step(y, hiV, false)})
		case hi == "":
			return b.op("Mul", []string{g, b.step(y, loV, true)})
		}
		return b.op("Mul", []string{g, b.between(y, loV, hiV)})
	}
	var mask string
	if lo != "" {
		mask = b.op("Greater", []string{y, lo})
	}
	if hi != "" {
		below := b.op("Less", []string{y, hi})
		if mask == "" {
			mask = below
		} else {
			mask = b.op("And", []string{mask, below})
		}
	}
	return b.where(mask, g)
}
