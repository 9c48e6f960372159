package interp

import (
	"fmt"
	"slices"

	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

// forward runs every node in mode m. With keepAll (tests) it keeps every
// value; otherwise values are dropped after their last reader. need, non-nil where a backward pass follows,
// says by slot whose gradient it will want, so that each op saves only
// what those gradients read.
func (p *Program) forward(x *Tensor, m Mode, need []bool, keepAll bool) ([]*Tensor, error) {
	return p.forwardFeeds(map[int]*Tensor{p.input: x}, m, need, keepAll)
}

// forwardFeeds is forward with any set of graph inputs fed by slot.
func (p *Program) forwardFeeds(feeds map[int]*Tensor, m Mode, need []bool, keepAll bool) ([]*Tensor, error) {
	grad := need != nil
	p.buffers.NextRun()
	vals := make([]*Tensor, len(p.consts))
	copy(vals, p.consts)
	for s, t := range feeds {
		vals[s] = t
	}
	in := make([]*Tensor, 0, 8)
	var held int64 // bytes the dry run's values add up to
	for i := range p.nodes {
		nd := &p.nodes[i]
		nd.state.Release()
		nd.state.Training, nd.state.Grad = m.Training, grad
		nd.state.FreezeBatchNorm = m.FreezeBatchNorm
		nd.state.Need = nd.state.Need[:0]
		if grad {
			for _, s := range nd.in {
				nd.state.Need = append(nd.state.Need, s >= 0 && need[s])
			}
		}
		in = in[:0]
		for _, s := range nd.in {
			if s < 0 {
				in = append(in, nil)
			} else {
				in = append(in, vals[s])
			}
		}
		outs, err := nd.op.Forward(&nd.state, in)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", nd.n, err)
		}
		if grad {
			p.pin(i, outs)
		}
		if len(outs) < len(nd.out) {
			// Optional trailing outputs (Dropout's mask, BatchNorm's
			// statistics) that the op does not produce must be unused.
			for j := len(outs); j < len(nd.out); j++ {
				if p.lastUse[nd.out[j]] >= 0 && nd.n.Outputs[j] != "" {
					return nil, fmt.Errorf("%w: node %s: output %d (%q) is used but not produced", ErrUnsupported, nd.n, j, nd.n.Outputs[j])
				}
			}
		}
		for j, s := range nd.out {
			if j < len(outs) {
				vals[s] = outs[j]
			}
		}
		if p.dryRun {
			held += newBytes(outs, in)
			if held > p.budget {
				return nil, fmt.Errorf("node %s: the values of one sample need more than %s, %w of %s", nd.n, ops.Bytes(held), ErrTooLarge, ops.Bytes(p.budget))
			}
			p.recordShapes(nd.out, outs)
		}
		if !keepAll {
			var pinned [][]*Tensor
			if grad {
				pinned = p.pins[: i+1 : i+1]
			}
			p.dropInputs(i, vals, feeds, pinned...)
		}
	}
	return vals, nil
}

// dropInputs recycles the values that node i was the last to read, unless
// they share storage with a live value or with what a node saved (pinned).
func (p *Program) dropInputs(i int, vals []*Tensor, feeds map[int]*Tensor, pinned ...[]*Tensor) {
	for _, s := range p.nodes[i].in {
		if _, fed := feeds[s]; s >= 0 && p.lastUse[s] == i && p.consts[s] == nil && !fed {
			t := vals[s]
			vals[s] = nil
			p.recycle(t, append(pinned, vals)...)
		}
	}
}

// pin records, in a gradient pass, what node i saved for its backward
// rule (the only values the backward pass reads besides the gradients)
// and the shapes of its float outputs.
func (p *Program) pin(i int, outs []*Tensor) {
	if i == 0 {
		p.pins = p.pins[:0]
		if cap(p.runShapes) < len(p.consts) {
			p.runShapes = make([][]int, len(p.consts))
		}
		p.runShapes = p.runShapes[:len(p.consts)]
		clear(p.runShapes)
	}
	p.pins = append(p.pins, append([]*Tensor(nil), p.nodes[i].state.SavedTensors()...))
	for j, s := range p.nodes[i].out {
		if j < len(outs) && outs[j] != nil && !outs[j].IsInt() {
			p.runShapes[s] = slices.Clone(outs[j].Shape)
		}
	}
}

// Run computes the graph's outputs for a batch in inference mode.
func (p *Program) Run(x *Tensor) ([]*Tensor, error) { return p.RunMode(x, Mode{}) }

// RunMode computes the graph's outputs for a batch in mode m. In training
// mode BatchNormalization updates its running statistics.
func (p *Program) RunMode(x *Tensor, m Mode) ([]*Tensor, error) {
	if err := p.CheckInput(x); err != nil {
		return nil, err
	}
	vals, err := p.forward(x, m, nil, false)
	if err != nil {
		return nil, err
	}
	outs := make([]*Tensor, len(p.outputs))
	for i, s := range p.outputs {
		outs[i] = vals[s]
	}
	return outs, nil
}
