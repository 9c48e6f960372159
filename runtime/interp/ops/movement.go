package ops

// The data-movement kernels that the shape operators share (Transpose,
// DepthToSpace and SpaceToDepth, Expand, Tile, Where, Concat and Split).
// Every kernel is generic over the two
// kinds of values a Tensor holds, so float activations and int64 shape
// tensors go through the same code, and each moves contiguous runs with
// copy() wherever the layout allows.

import "slices"

type tensorValue interface{ float32 | int64 }

// reshaped returns a tensor of the given shape sharing t's values. Tensors,
// gradients included, are never written after the op that produced them
// returns (the exception, BatchNormalization's running statistics updated
// in training, never flows through the shape operators), so Reshape,
// Flatten, Squeeze, Unsqueeze and the backward passes that only change a
// shape share instead of copying.
func reshaped(t *Tensor, shape []int) *Tensor {
	return &Tensor{Shape: shape, Data: t.Data, Ints: t.Ints, Elem: t.Elem}
}

// zerosOfKind returns a zeroed tensor of shape holding the same kind of values as t.
func zerosOfKind(t *Tensor, shape []int) *Tensor {
	if t.IsInt() {
		return NewInts(shape, make([]int64, Numel(shape)))
	}
	return NewFloat(shape...)
}

// sameKind reports whether every non-nil tensor holds the kind of values t holds.
func sameKind(t *Tensor, ts ...*Tensor) bool {
	for _, u := range ts {
		if u != nil && u.IsInt() != t.IsInt() {
			return false
		}
	}
	return true
}

// shapeValues converts a shape to the int64 values of a shape tensor.
func shapeValues(shape []int) []int64 {
	v := make([]int64, len(shape))
	for i, d := range shape {
		v[i] = int64(d)
	}
	return v
}

// permuteTensor returns x with its axes reordered: axis i of the result is
// axis perm[i] of x.
func permuteTensor(x *Tensor, perm []int) *Tensor {
	shape := make([]int, len(perm))
	for i, p := range perm {
		shape[i] = x.Shape[p]
	}
	y := zerosOfKind(x, shape)
	if x.IsInt() {
		permuteInto(y.Ints, x.Ints, x.Shape, perm)
	} else {
		permuteInto(y.Data, x.Data, x.Shape, perm)
	}
	return y
}

// invertPerm returns the permutation that undoes perm.
func invertPerm(perm []int) []int {
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[p] = i
	}
	return inv
}

// permuteInto writes src, of the given shape, into dst with its axes reordered
// by perm. Unit axes are dropped and output axes that stay adjacent in src
// are merged first, so a permutation that keeps the innermost axes in place
// becomes a loop of copy() calls over long runs. When the innermost output
// axis is far apart in src, the two innermost output axes are walked in
// square tiles, so that reads and writes both stay within a few cache
// lines (twice as fast as rows on an NCHW to NHWC transpose).
func permuteInto[T tensorValue](dst, src []T, shape, perm []int) {
	if len(dst) == 0 {
		return
	}
	st := strides(shape)
	var dims, ist []int // merged output dims and their strides in src
	for _, p := range perm {
		d, s := shape[p], st[p]
		if d == 1 {
			continue
		}
		if k := len(dims) - 1; k >= 0 && ist[k] == s*d {
			dims[k] *= d
			ist[k] = s
			continue
		}
		dims, ist = append(dims, d), append(ist, s)
	}
	if len(dims) == 0 {
		dst[0] = src[0]
		return
	}
	last := len(dims) - 1
	if n, step := dims[last], ist[last]; last == 0 || step <= 16 {
		// Runs along the innermost output axis: copies when it is
		// contiguous in src, short-strided reads (that share cache
		// lines) otherwise.
		outerSteps(dims[:last], ist[:last], func(o, off int) {
			run := dst[o*n : (o+1)*n]
			if step == 1 {
				copy(run, src[off:off+n])
				return
			}
			for j := range run {
				run[j] = src[off+j*step]
			}
		})
		return
	}
	const tile = 16
	k := len(dims) - 2 // tiles of rows × cols
	rows, cols, rs, cs := dims[k], dims[k+1], ist[k], ist[k+1]
	outerSteps(dims[:k], ist[:k], func(o, off int) {
		plane := dst[o*rows*cols : (o+1)*rows*cols]
		for i0 := 0; i0 < rows; i0 += tile {
			iEnd := min(i0+tile, rows)
			for j0 := 0; j0 < cols; j0 += tile {
				jEnd := min(j0+tile, cols)
				for i := i0; i < iEnd; i++ {
					seg, at := plane[i*cols+j0:i*cols+jEnd], off+i*rs+j0*cs
					for j := range seg {
						seg[j] = src[at]
						at += cs
					}
				}
			}
		}
	})
}

// outerSteps calls f for every position of an odometer over dims, in
// row-major order, with the position's ordinal and its offset under strides.
func outerSteps(dims, strides []int, f func(ordinal, offset int)) {
	pos := make([]int, len(dims))
	off, n := 0, Numel(dims)
	for o := 0; o < n; o++ {
		f(o, off)
		for ax := len(dims) - 1; ax >= 0; ax-- {
			pos[ax]++
			off += strides[ax]
			if pos[ax] < dims[ax] {
				break
			}
			off -= strides[ax] * dims[ax]
			pos[ax] = 0
		}
	}
}

// expandTensor returns x broadcast to shape, which broadcastShape must have
// produced from x's shape.
func expandTensor(x *Tensor, shape []int) *Tensor {
	if slices.Equal(x.Shape, shape) {
		return x
	}
	y := zerosOfKind(x, shape)
	if x.IsInt() {
		broadcastInto(y.Ints, x.Ints, shape, x.Shape)
	} else {
		broadcastInto(y.Data, x.Data, shape, x.Shape)
	}
	return y
}

// broadcastInto writes src, of shape in, broadcast to shape out into dst.
// Trailing axes where in and out agree are copied as one block; a
// broadcast axis is filled once and then replicated by doubling copies.
func broadcastInto[T tensorValue](dst, src []T, out, in []int) {
	if len(dst) == 0 {
		return
	}
	r := len(out)
	full := make([]int, r) // in, aligned right and padded with ones
	for i := range full {
		full[i] = 1
		if j := len(in) - r + i; j >= 0 {
			full[i] = in[j]
		}
	}
	k := r // axes k.. are the same in both: one contiguous block
	for k > 0 && full[k-1] == out[k-1] {
		k--
	}
	block := Numel(out[k:])
	ost, ist := strides(out), strides(full)
	var fill func(ax, d, s int)
	fill = func(ax, d, s int) {
		if ax == k {
			copy(dst[d:d+block], src[s:s+block])
			return
		}
		if full[ax] == 1 {
			fill(ax+1, d, s)
			replicateHead(dst[d:d+ost[ax]*out[ax]], ost[ax])
			return
		}
		for j := 0; j < out[ax]; j++ {
			fill(ax+1, d+j*ost[ax], s+j*ist[ax])
		}
	}
	fill(0, 0, 0)
}

// replicateHead fills v with copies of its first n values.
func replicateHead[T tensorValue](v []T, n int) {
	for filled := n; filled < len(v); filled *= 2 {
		copy(v[filled:], v[:filled])
	}
}

// joinRows is Concat's kernel: for each of outer rows, it copies the next
// widths[i] values of srcs[i] into dst one after the other.
func joinRows[T tensorValue](dst []T, srcs [][]T, widths []int, outer int) {
	o := 0
	for r := 0; r < outer; r++ {
		for i, src := range srcs {
			w := widths[i]
			copy(dst[o:o+w], src[r*w:(r+1)*w])
			o += w
		}
	}
}

// splitRows is Split's kernel and joinRows' inverse.
func splitRows[T tensorValue](dsts [][]T, src []T, widths []int, outer int) {
	o := 0
	for r := 0; r < outer; r++ {
		for i, dst := range dsts {
			w := widths[i]
			copy(dst[r*w:(r+1)*w], src[o:o+w])
			o += w
		}
	}
}
