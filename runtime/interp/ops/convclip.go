package ops

// A Conv followed by a Clip with constant bounds (MobileNet-V2's ReLU6)
// clips its output in place and keeps the Clip's bit mask, as a fused
// Relu does: the Clip's output tensor, a pass over memory each way and
// the Clip's gradient tensor go. From opset 11 the bounds are inputs; the
// pattern turns a Clip whose bounds are constants into one with them as
// attributes (one input), which the fusion then joins to the Conv.
func init() {
	bound := Const(func(float32) bool { return true })
	registerPattern(Pattern{Name: "Clip", Steps: []Step{{Type: "Clip", In: []Operand{X, bound, bound}}},
		Op: func(consts []float32) (Op, bool) {
			if len(consts) != 2 || !(consts[0] <= consts[1]) {
				return nil, false
			}
			return clip{attrs: true, lo: consts[0], hi: consts[1]}, true
		}})
	registerFusion(Fusion{Name: "Conv+Clip", First: "Conv", Then: "Clip",
		Join: func(first, then Op, _ [][]int, _ bool) (Op, bool) {
			c, ok := first.(*conv)
			cl, bounded := then.(clip)
			if !ok || !bounded || !cl.attrs || c.relu || c.clip != nil || c.gate != nil {
				return nil, false
			}
			f := *c
			f.clip = &[2]float32{cl.lo, cl.hi}
			return &f, true
		}})
}
