package ops

func init() {
	register("Upsample", 7, newUpsample) // scales attribute
	register("Upsample", 9, newUpsample) // scales input
}

// Upsample is Resize with asymmetric coordinates and nearest rounding
// down, the behaviour Resize-10 kept.
func newUpsample(n *Node) (Op, error) {
	r := &resize{op: "Upsample", coord: "asymmetric", nearest: "floor", policy: "stretch", scalesAt: 1, sizesAt: -1}
	if n.Opset < 9 {
		sc, err := n.Floats("scales", nil)
		if err != nil {
			return nil, err
		}
		r.attrScales, r.scalesAt = sc, -1
	}
	return r, r.setMode(n)
}
