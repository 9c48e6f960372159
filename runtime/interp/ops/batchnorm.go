package ops

import (
	"fmt"
	"math"
)

func init() {
	register("BatchNormalization", 7, newBatchNorm)  // spatial attribute
	register("BatchNormalization", 9, newBatchNorm)  // spatial removed: always per channel
	register("BatchNormalization", 14, newBatchNorm) // training_mode; outputs running_mean, running_var
	register("BatchNormalization", 15, newBatchNorm) // scale, B and the statistics may differ in type from X
}

// batchNorm normalises each channel of an N×C×… input. In inference it uses
// the running statistics, inputs 3 and 4. In training it uses the batch's
// mean and biased variance and moves the running statistics toward them by
// 1−momentum.
//
// Training comes from two places. A Program in training mode
// (State.Training) fine-tunes a model exported from PyTorch: the running
// statistics are updated in place in the initializers, with the unbiased
// batch variance in the running update, as PyTorch's train() does. A node
// with ONNX's training_mode=1 follows the ONNX specification instead: the
// running statistics are new output tensors and their update uses the
// biased variance. Either way the output Y uses the biased variance.
// State.FreezeBatchNorm turns the first off: the running statistics are
// used and kept, as in inference.
type batchNorm struct {
	eps, momentum float32
	trainingAttr  bool // training_mode=1
	outputs       int  // outputs the node names
}

type batchNormSaved struct {
	mean, invstd []float32 // per channel: the statistics Y was normalised with
	training     bool      // batch statistics: gradients flow through them
}

func newBatchNorm(n *Node) (Op, error) {
	eps, err := n.Float("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	mom, err := n.Float("momentum", 0.9)
	if err != nil {
		return nil, err
	}
	b := &batchNorm{eps: eps, momentum: mom, outputs: len(n.Outputs)}
	if n.Opset < 9 {
		spatial, err := n.Int("spatial", 1)
		if err != nil {
			return nil, err
		}
		if spatial != 1 {
			return nil, fmt.Errorf("%w: BatchNormalization %q: spatial=%d (per-activation statistics)", ErrUnsupported, n.Name, spatial)
		}
	}
	if n.Opset >= 14 {
		tm, err := n.Int("training_mode", 0)
		if err != nil {
			return nil, err
		}
		b.trainingAttr = tm != 0
	}
	return b, nil
}

func (b *batchNorm) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "X")
	if err != nil {
		return nil, err
	}
	if x.Rank() < 2 {
		return nil, fmt.Errorf("input %v has no channel axis", x)
	}
	c := x.Shape[1]
	names := [5]string{"X", "scale", "B", "input_mean", "input_var"}
	for i := 1; i < 5; i++ {
		t, err := floatIn(in, i, names[i])
		if err != nil {
			return nil, err
		}
		if t.Len() != c {
			return nil, fmt.Errorf("%s %v does not have the input's %d channels", names[i], t, c)
		}
	}
	scale, bias, runMean, runVar := in[1].Data, in[2].Data, in[3], in[4]
	n, hw := x.Shape[0], Numel(x.Shape[2:])
	training := s.Training && !s.FreezeBatchNorm || b.trainingAttr
	mean, invstd := make([]float32, c), make([]float32, c)
	outMean, outVar := runMean, runVar
	if training {
		batchVar := make([]float32, c)
		channelStats(mean, batchVar, x.Data, n, c, hw)
		for ch := range invstd {
			invstd[ch] = float32(1 / math.Sqrt(float64(batchVar[ch])+float64(b.eps)))
		}
		m := n * hw
		if s.Training && !s.FreezeBatchNorm {
			// PyTorch's running update: unbiased variance, in place.
			if m > 1 {
				for ch := range batchVar {
					batchVar[ch] *= float32(m) / float32(m-1)
				}
			}
		} else {
			outMean, outVar = like(runMean), like(runVar)
		}
		for ch := 0; ch < c; ch++ {
			outMean.Data[ch] = b.momentum*runMean.Data[ch] + (1-b.momentum)*mean[ch]
			outVar.Data[ch] = b.momentum*runVar.Data[ch] + (1-b.momentum)*batchVar[ch]
		}
	} else {
		copy(mean, runMean.Data)
		for ch, v := range runVar.Data {
			invstd[ch] = float32(1 / math.Sqrt(float64(v)+float64(b.eps)))
		}
	}
	y := like(x)
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			a := scale[ch] * invstd[ch]
			sh := bias[ch] - mean[ch]*a
			off := (i*c + ch) * hw
			src, dst := x.Data[off:off+hw], y.Data[off:off+hw]
			for j, v := range src {
				dst[j] = a*v + sh
			}
		}
	}
	s.Save(x, in[1], in[2])
	s.SetAux(batchNormSaved{mean: mean, invstd: invstd, training: training})
	outs := []*Tensor{y}
	if b.outputs > 1 {
		outs = append(outs, outMean, outVar)
	}
	return outs, nil
}

// channelStats writes each channel's mean and biased variance over N and
// the spatial axes: float32 partial sums per plane, combined in float64,
// with the mean subtracted before squaring so large activations do not
// cancel.
func channelStats(mean, variance, x []float32, n, c, hw int) {
	m := float64(n * hw)
	for ch := 0; ch < c; ch++ {
		var sum float64
		for i := 0; i < n; i++ {
			off := (i*c + ch) * hw
			sum += float64(sum4(x[off : off+hw]))
		}
		mu := sum / m
		var sq float64
		for i := 0; i < n; i++ {
			off := (i*c + ch) * hw
			sq += float64(sqDev4(x[off:off+hw], float32(mu)))
		}
		mean[ch], variance[ch] = float32(mu), float32(sq/m)
	}
}

// sum4, sqDev4 and sumDot4 reduce with four accumulators, which breaks the
// chain of dependent additions that would otherwise bound their speed.

// sum4 returns Σx.
func sum4(x []float32) float32 {
	var a0, a1, a2, a3 float32
	n := len(x) &^ 3
	for j := 0; j < n; j += 4 {
		v := x[j : j+4 : j+4]
		a0, a1, a2, a3 = a0+v[0], a1+v[1], a2+v[2], a3+v[3]
	}
	for _, v := range x[n:] {
		a0 += v
	}
	return (a0 + a1) + (a2 + a3)
}

// sqDev4 returns Σ(x−mu)².
func sqDev4(x []float32, mu float32) float32 {
	var a0, a1, a2, a3 float32
	n := len(x) &^ 3
	for j := 0; j < n; j += 4 {
		v := x[j : j+4 : j+4]
		d0, d1, d2, d3 := v[0]-mu, v[1]-mu, v[2]-mu, v[3]-mu
		a0, a1, a2, a3 = a0+d0*d0, a1+d1*d1, a2+d2*d2, a3+d3*d3
	}
	for _, v := range x[n:] {
		a0 += (v - mu) * (v - mu)
	}
	return (a0 + a1) + (a2 + a3)
}

// sumDot4 returns Σg and Σg·(x−mu); x is at least as long as g.
func sumDot4(g, x []float32, mu float32) (sg, sgx float32) {
	var a0, a1, a2, a3, b0, b1, b2, b3 float32
	n := len(g) &^ 3
	x = x[:len(g)]
	for j := 0; j < n; j += 4 {
		u, v := g[j:j+4:j+4], x[j:j+4:j+4]
		a0, a1, a2, a3 = a0+u[0], a1+u[1], a2+u[2], a3+u[3]
		b0, b1, b2, b3 = b0+u[0]*(v[0]-mu), b1+u[1]*(v[1]-mu), b2+u[2]*(v[2]-mu), b3+u[3]*(v[3]-mu)
	}
	for j := n; j < len(g); j++ {
		a0 += g[j]
		b0 += g[j] * (x[j] - mu)
	}
	return (a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3)
}

// Backward returns gradients for X, scale and B; the statistics get none.
// With batch statistics the gradient of X includes their dependence on X.
func (b *batchNorm) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(batchNormSaved)
	if !ok {
		return nil, fmt.Errorf("BatchNormalization: backward without a forward pass")
	}
	x, scale, bias := s.Saved(0), s.Saved(1), s.Saved(2)
	g := dy[0]
	n, c, hw := x.Shape[0], x.Shape[1], Numel(x.Shape[2:])
	// Per channel: dB = Σ dy and dscale = Σ dy·x̂, with x̂ = (x−μ)·σ⁻¹.
	// Inference needs them only for the gradients of scale and B.
	dB, dS := make([]float64, c), make([]float64, c)
	for i := 0; i < n && (a.training || s.Needs(1) || s.Needs(2)); i++ {
		for ch := 0; ch < c; ch++ {
			off := (i*c + ch) * hw
			sb, ss := sumDot4(g.Data[off:off+hw], x.Data[off:off+hw], a.mean[ch])
			dB[ch] += float64(sb)
			dS[ch] += float64(ss) * float64(a.invstd[ch])
		}
	}
	grads := make([]*Tensor, 5)
	if s.Needs(0) {
		dx := like(x)
		m := float32(n * hw)
		for i := 0; i < n; i++ {
			for ch := 0; ch < c; ch++ {
				off := (i*c + ch) * hw
				mu, is := a.mean[ch], a.invstd[ch]
				k := scale.Data[ch] * is
				gy, dst := g.Data[off:off+hw], dx.Data[off:off+hw]
				if !a.training {
					for j, v := range gy {
						dst[j] = k * v
					}
					continue
				}
				// dx = γσ⁻¹·(dy − dB/m − x̂·dscale/m), as k·dy + q·x + r
				mb, ms := float32(dB[ch])/m, float32(dS[ch])/m
				q := -k * is * ms
				r := -k*mb - q*mu
				for j, v := range x.Data[off : off+hw] {
					dst[j] = k*gy[j] + q*v + r
				}
			}
		}
		grads[0] = dx
	}
	if s.Needs(1) {
		grads[1] = fromFloat64(scale.Shape, dS)
	}
	if s.Needs(2) {
		grads[2] = fromFloat64(bias.Shape, dB)
	}
	return grads, nil
}

// ModeDependent: BatchNormalization uses batch statistics in training mode
// unless held to its running ones.
func (*batchNorm) ModeDependent(freezeBatchNorm bool) bool { return !freezeBatchNorm }
