package kernel

// A Span is a run of output channels that one kernel shape computes:
// channels First to First+N of each group, its packed weights at Pack and
// its biases at Bias within a group's.
type Span struct {
	Shape      Shape
	First, N   int
	Pack, Bias int
}

// Cover covers m channels of k terms with spans of the main shape (Tall or
// Broad), the rest with a main one if more than 4 are left and a Wide one
// otherwise, so a layer with few channels (the first layer's gradient: 1
// or 3) wastes less; a single channel left in a wide plan takes Run1. It
// returns the floats of packed weights and of biases a group takes.
func Cover(m, k int, wide bool, main Shape) (spans []Span, packLen, biasLen int) {
	for first := 0; first < m; {
		shape := main
		switch {
		case m-first == 1 && wide:
			shape = Run1
		case m-first <= Wide.Rows:
			shape = Wide
		}
		n := min(shape.Rows, m-first)
		spans = append(spans, Span{Shape: shape, First: first, N: n, Pack: packLen, Bias: biasLen})
		packLen += k * shape.Rows
		biasLen += shape.Rows
		first += n
	}
	return spans, packLen, biasLen
}

// RunSegments runs the tile t (all set but its segments) of shape s over
// segs, s.Segs at a time: the kernel's segments X and OSeg are the
// segments' X and DY. A Tall tile's last group of 1 or 2 segments takes
// Tall1 or Tall2; other shapes' last group runs with the missing
// segments masked off. Run1 takes consecutive segments from the first of
// each group, unmasked.
func RunSegments(s Shape, t *Tile, segs []GradSeg) {
	for i := 0; i < len(segs); i += s.Segs {
		if s == Run1 {
			t.XSeg[0], t.OSeg[0] = segs[i].X, segs[i].DY
			Run(s, t)
			continue
		}
		shape := s
		if left := len(segs) - i; s == Tall && left < s.Segs {
			shape = Shape{Rows: s.Rows, Segs: left} // Tall2 or Tall1
		}
		for j := range shape.Segs {
			t.XSeg[j], t.OSeg[j], t.Mask[j] = 0, 0, 0
			if i+j < len(segs) {
				sg := segs[i+j]
				t.XSeg[j], t.OSeg[j], t.Mask[j] = sg.X, sg.DY, uint64(sg.Mask)
			}
		}
		Run(shape, t)
	}
}
