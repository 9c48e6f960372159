package ops

import (
	"fmt"
	"slices"
)

// ScatterND: reduction arrived in opset 16 (none, add, mul) and 18 (max,
// min), as for ScatterElements (scatterelements.go, which holds the
// combining and the gradients both share).
func init() {
	register("ScatterND", 11, newScatterND(false))
	register("ScatterND", 16, newScatterND(true))
}

// scatterND copies data and writes each slice of updates at the slice of
// data its index tuple addresses (tuplePositions, as GatherND reads).
type scatterND struct{ red scatterReduction }

func newScatterND(reductions bool) constructor {
	return func(n *Node) (Op, error) {
		red, err := parseScatterReduction(n, reductions)
		return &scatterND{red: red}, err
	}
}

func (o *scatterND) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	data, indices, updates, err := scatterInputs(in)
	if err != nil {
		return nil, err
	}
	pos, shape, err := tuplePositions(data.Shape, indices, 0)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(updates.Shape, shape) {
		return nil, fmt.Errorf("updates %v, want shape %s for indices %v and data %v", updates, ShapeString(shape), indices, data)
	}
	return scatterAt(s, data, updates, pos, o.red), nil
}

func (o *scatterND) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return scatterGrads(s, dy), nil
}
