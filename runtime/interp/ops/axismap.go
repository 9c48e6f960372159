package ops

// An axis map sends each output position along one axis to an input
// position, or to -1 for a fill value. A tensor gathered through one map
// per axis covers Pad (every mode) and nearest-neighbour Resize; the
// backward pass is the matching scatter-add.

// gatherAxes writes dst[o] = src[idx₀[o₀], …, idxᵣ[oᵣ]], fill where any
// index is -1. dst has shape (len(idx₀), …, len(idxᵣ)); src has inShape.
func gatherAxes[T float32 | int64](dst, src []T, inShape []int, idx [][]int32, fill T) {
	prevBase, prevO := -1, -1
	walkAxes(inShape, idx, func(row []int32, base int, valid bool, o int) {
		out := dst[o : o+len(row)]
		if !valid {
			for i := range out {
				out[i] = fill
			}
			return
		}
		if base == prevBase { // a repeated input row: upsampling, edge padding
			copy(out, dst[prevO:prevO+len(row)])
			return
		}
		prevBase, prevO = base, o
		for i, j := range row {
			if j < 0 {
				out[i] = fill
			} else {
				out[i] = src[base+int(j)]
			}
		}
	})
}

// scatterAxes is the adjoint of gatherAxes: dst (inShape) += each g[o] at
// the position it was gathered from; fill positions are dropped.
func scatterAxes(dst, g []float32, inShape []int, idx [][]int32) {
	walkAxes(inShape, idx, func(row []int32, base int, valid bool, o int) {
		if !valid {
			return
		}
		for i, j := range row {
			if j >= 0 {
				dst[base+int(j)] += g[o+i]
			}
		}
	})
}

// walkAxes calls f once per output row (all axes but the last fixed), with
// the last axis's map, the input offset of the row's start, whether the
// outer indices are all valid, and the row's output offset.
func walkAxes(inShape []int, idx [][]int32, f func(row []int32, base int, valid bool, o int)) {
	r := len(idx)
	if r == 0 {
		f([]int32{0}, 0, true, 0)
		return
	}
	st := strides(inShape)
	last := idx[r-1]
	outer := 1
	for _, v := range idx[:r-1] {
		outer *= len(v)
	}
	pos := make([]int, r-1)
	for o := 0; o < outer; o++ {
		base, valid := 0, true
		for ax, p := range pos {
			j := idx[ax][p]
			if j < 0 {
				valid = false
				break
			}
			base += int(j) * st[ax]
		}
		f(last, base, valid, o*len(last))
		for ax := r - 2; ax >= 0; ax-- {
			pos[ax]++
			if pos[ax] < len(idx[ax]) {
				break
			}
			pos[ax] = 0
		}
	}
}
