package interp

import (
	"fmt"
	"slices"

	"github.com/onnxguard/onnxguard/runtime/interp/ops"
)

// inferShapes runs the graph on zero batches of one and two samples (or the
// fixed batch the model declares): every operator's shape rule runs before
// real data does, and dimensions that change with the batch are marked -1.
func (p *Program) inferShapes() error {
	shape, fixed, err := p.inputShape(1)
	if err != nil {
		return err
	}
	if err := CheckInputSize(p.Input.Name, shape, p.budget); err != nil {
		return fmt.Errorf("compiling: %w", err)
	}
	first, err := p.valueShapes(shape)
	if err != nil {
		return err
	}
	p.shapes = first
	if fixed {
		return nil
	}
	shape[0] = 2
	second, err := p.valueShapes(shape)
	if err != nil {
		return err
	}
	for name, s1 := range first {
		s2 := second[name]
		if len(s1) != len(s2) {
			continue
		}
		for i := range s1 {
			if s1[i] != s2[i] {
				s1[i] = -1
			}
		}
	}
	return nil
}

// inputShape returns the declared input shape with the batch set to n,
// reporting whether the batch is fixed. Unknown non-batch dims are errors.
func (p *Program) inputShape(n int) ([]int, bool, error) {
	decl := p.Input.Shape
	if len(decl) == 0 {
		return nil, false, fmt.Errorf("%w: input %q declares no shape", ErrUnsupported, p.Input.Name)
	}
	shape := make([]int, len(decl))
	fixed := decl[0] > 0
	for i, d := range decl {
		switch {
		case d > 0:
			shape[i] = int(d)
		case i == 0:
			shape[i] = n
		default:
			return nil, false, fmt.Errorf("%w: input %q has a dynamic dimension %d (%q); only the batch axis may be dynamic", ErrUnsupported, p.Input.Name, i, p.Input.DimNames[i])
		}
	}
	return shape, fixed, nil
}

func (p *Program) valueShapes(inShape []int) (map[string][]int, error) {
	p.dryRun, p.dryShapes = true, make([][]int, len(p.consts))
	vals, err := p.forward(ops.NewFloat(inShape...), Mode{}, nil, false)
	dry := p.dryShapes
	p.dryRun, p.dryShapes = false, nil
	if err != nil {
		return nil, fmt.Errorf("compiling: %w", ops.Malformed(err))
	}
	shapes := map[string][]int{}
	for name, s := range p.slots {
		if v := vals[s]; v != nil {
			shapes[name] = append([]int(nil), v.Shape...)
		} else if dry[s] != nil {
			shapes[name] = dry[s]
		}
	}
	return shapes, nil
}

// recordShapes keeps, in the dry run, the shapes of a node's outputs:
// the values themselves are dropped at their last use, as in any run, so
// that compiling a large model holds no more of them at once than running
// it does.
func (p *Program) recordShapes(slots []int, outs []*Tensor) {
	for j, s := range slots {
		if j < len(outs) && outs[j] != nil {
			p.dryShapes[s] = slices.Clone(outs[j].Shape)
		}
	}
}
