package kernel

// DepthwiseRow computes n output pixels of a depthwise convolution on
// images laid out channels innermost (pixel-major, cp floats a pixel, cp
// a multiple of 16): for pixel p and channel c,
//
//	out[p·cp + c] = bias[c] + Σ_t w[t·cp + c] · x[p·xStep + toff[t] + c]
//
// the terms added in tap order, each multiply and add fused, and then,
// where relu is set, negatives and NaN set to zero. Each output pixel is
// 16 channels a vector: a small plane with many channels (MobileNet's
// and EfficientNet's 7×7 and 14×14 layers) fills every lane, where a
// plane at a time would leave most of a tile's lanes idle. Offsets and
// xStep are in floats; bias and each tap's weights are cp floats. It
// panics where a read would fall outside x or w, or a write outside out.
func DepthwiseRow(out, x, w, bias []float32, toff []int64, n, cp, xStep int, relu bool) {
	checked{native}.DepthwiseRow(out, x, w, bias, toff, n, cp, xStep, relu)
}

func (c checked) DepthwiseRow(out, x, w, bias []float32, toff []int64, n, cp, xStep int, relu bool) {
	if n <= 0 || cp <= 0 || len(toff) == 0 {
		return
	}
	hi := depthwiseBounds(toff, cp, xStep)
	_, _, _ = out[n*cp-1], w[len(toff)*cp-1], bias[cp-1]
	_ = x[int64((n-1)*xStep)+hi+int64(cp)-1]
	c.k.depthwiseRow(out, x, w, bias, toff, n, cp, xStep, relu)
}

// depthwiseRowGo is the twin of the DepthwiseRow kernel.
func depthwiseRowGo(out, x, w, bias []float32, toff []int64, n, cp, xStep int, relu bool) {
	for p := range n {
		o := out[p*cp:][:cp]
		copy(o, bias[:cp])
		for t, off := range toff {
			xs := x[int64(p*xStep)+off:][:cp]
			ws := w[t*cp:][:cp]
			for c := range o {
				o[c] = fma(ws[c], xs[c], o[c])
			}
		}
		if relu {
			for c, v := range o {
				if !(v > 0) {
					o[c] = 0
				}
			}
		}
	}
}

// DepthwiseGradRow adds to acc the weight gradient of n output pixels of
// the depthwise convolution DepthwiseRow computes: for tap t and channel
// c,
//
//	acc[t·cp + c] += Σ_p dy[p·cp + c] · x[p·xStep + toff[t] + c]
//
// the pixels added in order, each multiply and add fused. It panics where
// a read would fall outside dy, x or acc.
func DepthwiseGradRow(acc, dy, x []float32, toff []int64, n, cp, xStep int) {
	checked{native}.DepthwiseGradRow(acc, dy, x, toff, n, cp, xStep)
}

func (c checked) DepthwiseGradRow(acc, dy, x []float32, toff []int64, n, cp, xStep int) {
	if n <= 0 || cp <= 0 || len(toff) == 0 {
		return
	}
	hi := depthwiseBounds(toff, cp, xStep)
	_, _ = acc[len(toff)*cp-1], dy[n*cp-1]
	_ = x[int64((n-1)*xStep)+hi+int64(cp)-1]
	c.k.depthwiseGradRow(acc, dy, x, toff, n, cp, xStep)
}

// depthwiseBounds checks the layout arguments of the depthwise kernels,
// panicking where they are not whole vectors or not positive, and returns
// the largest tap offset.
func depthwiseBounds(toff []int64, cp, xStep int) int64 {
	if cp%Lanes != 0 || xStep < 0 {
		panic("kernel: depthwise kernel with channels not whole vectors or a negative step")
	}
	hi := int64(0)
	for _, o := range toff {
		if o < 0 {
			panic("kernel: depthwise kernel with a negative tap offset")
		}
		hi = max(hi, o)
	}
	return hi
}

// depthwiseGradRowGo is the twin of the DepthwiseGradRow kernel.
func depthwiseGradRowGo(acc, dy, x []float32, toff []int64, n, cp, xStep int) {
	for t, off := range toff {
		a := acc[t*cp:][:cp]
		for c := range a {
			s := a[c]
			for p := range n {
				s = fma(dy[p*cp+c], x[int64(p*xStep)+off+int64(c)], s)
			}
			a[c] = s
		}
	}
}
