package ops

import (
	"fmt"
	"slices"
)

// GatherND: opset 12 added batch_dims, read here at opset 11 too (where it
// must be absent or 0 in a valid model).
func init() { register("GatherND", 11, newGatherND) }

// gatherND reads, for each index tuple in the last axis of indices, the
// slice of data it addresses; the first batch_dims axes of data and
// indices pair up.
type gatherND struct{ batch int }

func newGatherND(n *Node) (Op, error) {
	b, err := n.Int("batch_dims", 0)
	if err != nil {
		return nil, err
	}
	if b < 0 || b > 64 {
		return nil, fmt.Errorf("GatherND: batch_dims %d, want ≥ 0 and below the ranks", b)
	}
	return gatherND{batch: int(b)}, nil
}

func (o gatherND) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) < 2 || in[0] == nil || in[1] == nil {
		return nil, fmt.Errorf("GatherND needs data and indices")
	}
	pos, shape, err := tuplePositions(in[0].Shape, in[1], o.batch)
	if err != nil {
		return nil, err
	}
	return gatherAt(s, in[0], pos, shape), nil
}

func (gatherND) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	return []*Tensor{scatterBack(s, dy), nil}, nil
}

// tuplePositions maps every element of the GatherND output (and of the
// ScatterND updates) to its flat position in a tensor of shape data, and
// returns that output's shape: indices.shape[:-1] + data.shape[batch+k:]
// with k = indices.shape[-1].
func tuplePositions(data []int, indices *Tensor, batch int) ([]int, []int, error) {
	if !indices.IsInt() {
		return nil, nil, fmt.Errorf("indices %v hold floats, want integers", indices)
	}
	q, r := indices.Rank(), len(data)
	if q < 1 || batch >= q || batch >= r {
		return nil, nil, fmt.Errorf("indices %v and data %s leave no room for batch_dims %d", indices, ShapeString(data), batch)
	}
	if !slices.Equal(indices.Shape[:batch], data[:batch]) {
		return nil, nil, fmt.Errorf("the batch axes of indices %v and data %s differ", indices, ShapeString(data))
	}
	k := indices.Shape[q-1]
	if k < 1 || batch+k > r {
		return nil, nil, fmt.Errorf("index tuples of length %d do not fit data %s after %d batch axes", k, ShapeString(data), batch)
	}
	shape := append(slices.Clone(indices.Shape[:q-1]), data[batch+k:]...)
	st := strides(data)
	slice := Numel(data[batch+k:])
	perBatch := Numel(indices.Shape[batch : q-1])
	tuples := Numel(indices.Shape[:q-1])
	pos := make([]int, 0, tuples*slice)
	for t := 0; t < tuples; t++ {
		base := 0
		if batch > 0 {
			base = t / perBatch * st[batch-1]
		}
		for j, v := range indices.Ints[t*k : (t+1)*k] {
			d := int64(data[batch+j])
			if v < -d || v >= d {
				return nil, nil, fmt.Errorf("index %d out of range for axis %d of size %d", v, batch+j, d)
			}
			if v < 0 {
				v += d
			}
			base += int(v) * st[batch+j]
		}
		for j := 0; j < slice; j++ {
			pos = append(pos, base+j)
		}
	}
	return pos, shape, nil
}
