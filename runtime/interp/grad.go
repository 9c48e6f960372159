package interp

import (
	"fmt"
	"math"
	"slices"

	"github.com/onnxguard/onnxguard/runtime/interp/internal/team"
	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

// Want selects the gradients a backward pass computes, and the mode its
// forward pass runs in (the zero Mode is inference).
type Want struct {
	Mode
	Input  bool // d loss / d input
	Params bool // d loss / d every float initializer
	// Loss, when set, replaces the mean softmax cross-entropy: it gets the
	// logits (N×K, the tensor the default loss reads) and the labels
	// passed to Grad, and returns the loss and its gradient with respect
	// to the logits, which the backward pass carries to the input and the
	// parameters. Attacks use it for margin losses (DLR) and for the
	// gradient of one logit difference (FAB).
	Loss LossFunc
}

// LossFunc is a loss on a batch of logits: the loss and d loss / d logits,
// a tensor of the logits' shape that the interpreter then owns (it may be
// recycled once the backward pass has read it).
type LossFunc func(logits *Tensor, labels []int) (float64, *Tensor, error)

// Result is what Grad returns.
type Result struct {
	Loss   float64 // Want.Loss's value; by default the mean softmax cross-entropy over the batch
	Logits *Tensor // the tensor the loss read, N×K
	Input  *Tensor // gradient with respect to the input, when wanted
	// Params holds one gradient per Params() entry, nil for initializers
	// the loss does not depend on (running statistics, shape constants).
	Params []*Tensor

	p    *Program // whose next runs reuse Input's and Params' storage after Release
	free func()   // OnRelease's, for a result no Program made
}

// OnRelease makes free what Release does with r, for a result that an
// engine other than a Program computed (the gradient graph on ONNX
// Runtime): free takes back r's storage, all of it, for the engine's next
// runs to reuse. Release calls free once.
func (r *Result) OnRelease(free func()) { r.free = free }

// LossGrad returns the loss and its gradient with respect to the input.
func (p *Program) LossGrad(x *Tensor, labels []int) (float64, *Tensor, error) {
	r, err := p.Grad(x, labels, Want{Input: true})
	if err != nil {
		return 0, nil, err
	}
	return r.Loss, r.Input, nil
}

// ParamGrads returns the loss and its gradient with respect to every
// floating-point initializer, aligned with Params.
func (p *Program) ParamGrads(x *Tensor, labels []int) (float64, []*Tensor, error) {
	r, err := p.Grad(x, labels, Want{Params: true})
	if err != nil {
		return 0, nil, err
	}
	return r.Loss, r.Params, nil
}

// Grad runs the forward pass, the loss and the backward pass.
func (p *Program) Grad(x *Tensor, labels []int, want Want) (*Result, error) {
	if err := p.CheckInput(x); err != nil {
		return nil, err
	}
	need := p.needsGrad(want)
	vals, err := p.forward(x, want.Mode, need, p.keepAll)
	if err != nil {
		return nil, err
	}
	logits := vals[p.logits]
	lossFn := want.Loss
	if lossFn == nil {
		lossFn = SoftmaxCrossEntropy
	}
	loss, dlogits, err := lossFn(logits, labels)
	if err != nil {
		return nil, err
	}
	if dlogits == nil || len(dlogits.Data) != logits.Len() || dlogits.IsInt() {
		return nil, fmt.Errorf("the loss returned a gradient %v for logits %v", dlogits, logits)
	}
	grads := make([]*Tensor, len(p.consts))
	grads[p.logits] = dlogits
	keep := []*Tensor{logits} // the caller's, never recycled
	dy := make([]*Tensor, 0, 4)
	for i := len(p.nodes) - 1; i >= 0; i-- {
		nd := &p.nodes[i]
		dy = dy[:0]
		reached := false
		for _, s := range nd.out {
			dy = append(dy, grads[s])
			reached = reached || grads[s] != nil
		}
		wanted := false
		for _, s := range nd.in {
			wanted = wanted || s >= 0 && need[s]
		}
		if !reached || !wanted {
			p.dropNode(i, vals, grads, keep)
			continue
		}
		for j, s := range nd.out {
			if dy[j] == nil && p.runShapes[s] != nil {
				dy[j] = ops.NewFloat(p.runShapes[s]...) // an output the loss does not read
			}
		}
		if err := p.backwardNode(i, dy, vals, grads, keep, need); err != nil {
			return nil, err
		}
		p.dropNode(i, vals, grads, keep)
	}
	r := &Result{Loss: loss, Logits: logits, p: p}
	if want.Input {
		r.Input = grads[p.input]
		if r.Input == nil {
			r.Input = ops.NewFloat(x.Shape...)
		}
	}
	if want.Params {
		r.Params = make([]*Tensor, len(p.params))
		for i, prm := range p.params {
			r.Params[i] = grads[p.slots[prm.Name]]
		}
	}
	return r, nil
}

// backwardNode runs node nd backward from its outputs' gradients dy and
// adds the gradients of the inputs that need one into grads, so that a
// value read twice (a residual Add) gets both contributions.
func (p *Program) backwardNode(i int, dy, vals, grads, keep []*Tensor, need []bool) error {
	nd := &p.nodes[i]
	nd.state.Need = nd.state.Need[:0]
	for _, s := range nd.in {
		nd.state.Need = append(nd.state.Need, s >= 0 && need[s])
	}
	gin, err := nd.op.Backward(&nd.state, dy)
	if err != nil {
		return fmt.Errorf("backward through node %s: %w", nd.n, err)
	}
	for j, g := range gin {
		if j >= len(nd.in) || g == nil || nd.in[j] < 0 || !need[nd.in[j]] {
			continue
		}
		s := nd.in[j]
		if grads[s] == nil {
			grads[s] = g
			continue
		}
		prev := grads[s]
		// Both addends die here, unless a live value, a node's saved
		// tensors or another of this node's gradients shares their
		// storage: a residual stream's sums then reuse the pool's storage
		// instead of growing the Go heap by one tensor per block. Where
		// nothing else shares prev, g is added into it in place.
		grads[s] = nil
		live := append([][]*Tensor{vals, grads, keep, gin[j+1:]}, p.pins[:min(i+1, len(p.pins))]...)
		if !overlaps(prev.Data, g.Data) && !shared(prev, live...) {
			sumInto(prev.Data, prev.Data, g.Data)
			grads[s] = prev
			p.recycle(g, append(live, []*Tensor{prev})...)
			continue
		}
		grads[s] = p.addTensors(prev, g)
		p.recycle(prev, append(live, []*Tensor{g})...)
		p.recycle(g, append(live, []*Tensor{prev})...)
	}
	return nil
}

// dropNode lets go of what the backward pass no longer needs once it is
// past node nd: what the node saved, its outputs and their gradients, so that
// memory falls as the backward pass goes instead of doubling what the forward
// pass holds, and the next run reuses it. Graph inputs and initializers are
// no node's outputs; keep (the logits, which go to the caller) stays.
//
// What the node saved goes back too, unless a value still live or a node
// not yet past (the pins of the nodes before it) shares its storage.
func (p *Program) dropNode(i int, vals, grads, keep []*Tensor) {
	nd := &p.nodes[i]
	nd.state.Release()
	dead := make([]*Tensor, 0, 2*len(nd.out)+4)
	for _, s := range nd.out {
		dead = append(dead, vals[s], grads[s])
		vals[s], grads[s] = nil, nil
	}
	if i < len(p.pins) {
		dead = append(dead, p.pins[i]...)
		p.pins[i] = nil
	}
	live := [][]*Tensor{vals, grads, keep}
	if i < len(p.pins) {
		live = append(live, p.pins[:i]...)
	}
	for j, t := range dead {
		if t != nil && !slices.ContainsFunc(dead[:j], func(u *Tensor) bool { return u != nil && overlaps(u.Data, t.Data) }) {
			p.recycle(t, live...)
		}
	}
}

// needsGrad marks the slots whose gradient the backward pass must compute:
// the wanted leaves and every value computed from them.
func (p *Program) needsGrad(want Want) []bool {
	need := make([]bool, len(p.consts))
	if want.Input {
		need[p.input] = true
	}
	if want.Params {
		for _, prm := range p.params {
			need[p.slots[prm.Name]] = true
		}
	}
	for _, nd := range p.nodes {
		flows := false
		for _, s := range nd.in {
			flows = flows || s >= 0 && need[s]
		}
		for _, s := range nd.out {
			need[s] = need[s] || flows
		}
	}
	return need
}

// addTensors returns a+b in a new tensor from the program's buffers,
// leaving both untouched: a gradient tensor may be shared by several
// values.
func (p *Program) addTensors(a, b *Tensor) *Tensor {
	out := &Tensor{Shape: a.Shape, Data: p.buffers.Get(len(a.Data), false)}
	sumInto(out.Data, a.Data, b.Data)
	return out
}

// sumInto writes dst = a+b, on every core; dst may be a (a gradient
// summed in place).
func sumInto(dst, a, b []float32) {
	_, _ = a[:len(dst)], b[:len(dst)]
	team.ForChunks(len(dst), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] = a[i] + b[i]
		}
	})
}

// SoftmaxCrossEntropy returns the mean cross-entropy of softmax(logits)
// against labels and its gradient with respect to the logits. Logits are
// N×K (trailing unit dimensions are allowed); the log-sum-exp is shifted by
// the row maximum so large logits do not overflow.
func SoftmaxCrossEntropy(logits *Tensor, labels []int) (float64, *Tensor, error) {
	if logits == nil || logits.IsInt() || len(logits.Shape) == 0 {
		return 0, nil, fmt.Errorf("the loss needs float logits of shape N×K, got %v", logits)
	}
	n := logits.Shape[0]
	if n == 0 || logits.Len()%n != 0 {
		return 0, nil, fmt.Errorf("logits %v: empty batch", logits)
	}
	k := logits.Len() / n
	if len(labels) != n {
		return 0, nil, fmt.Errorf("%d labels for a batch of %d", len(labels), n)
	}
	grad := ops.NewFloat(logits.Shape...)
	var total float64
	for i := 0; i < n; i++ {
		row := logits.Data[i*k : (i+1)*k]
		if labels[i] < 0 || labels[i] >= k {
			return 0, nil, fmt.Errorf("label %d of sample %d is outside the model's %d classes", labels[i], i, k)
		}
		lse := LogSumExp(row)
		total += lse - float64(row[labels[i]])
		g := grad.Data[i*k : (i+1)*k]
		for j, v := range row {
			g[j] = float32(math.Exp(float64(v)-lse) / float64(n))
		}
		g[labels[i]] -= 1 / float32(n)
	}
	return total / float64(n), grad, nil
}

// LogSumExp returns log Σ exp(row[j]), shifted by the row's maximum so that
// large logits do not overflow; the cross-entropy of a row against label y
// is LogSumExp(row) - row[y].
func LogSumExp(row []float32) float64 {
	m := row[0]
	for _, v := range row {
		m = max(m, v)
	}
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v - m))
	}
	return float64(m) + math.Log(sum)
}

// Release hands r's input and weight gradients back to the program that
// computed them, whose next run reuses their storage instead of
// allocating anew: an attack that takes thousands of gradient steps calls
// it once it has read the gradient, a training step once the optimizer
// has read the weights'. r.Input and r.Params are nil afterwards; neither
// may be used after Release, through r or any other reference to them
// (r.Logits stays the caller's). For a result given
// OnRelease, Release calls its function, which takes back every tensor
// of r: r.Input, r.Logits and r.Params are all nil afterwards. A caller
// that may hold either kind reads the logits before Release.
// A nil r, or one no Program made and not given OnRelease, is left as
// it is.
func (r *Result) Release() {
	if r != nil && r.free != nil {
		free := r.free
		// All of r goes back: nil here, so that a read after Release
		// fails rather than finds the next run's values.
		r.free, r.Input, r.Params, r.Logits = nil, nil, nil, nil
		free()
		return
	}
	if r == nil || r.p == nil {
		return
	}
	outer := []*Tensor{r.Logits, r.Input}
	for i, g := range r.Params {
		r.p.recycle(g, outer, r.Params[i+1:])
	}
	r.p.recycle(r.Input, outer[:1])
	r.Input, r.Params = nil, nil
}
