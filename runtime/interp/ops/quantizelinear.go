package ops

import (
	"fmt"
	"math"
	"slices"

	"github.com/onnxguard/onnxguard/onnx"
)

// QuantizeLinear: opset 10 per tensor, 13 per axis too.
func init() {
	register("QuantizeLinear", 10, newQuantizeLinear(false))
	register("QuantizeLinear", 13, newQuantizeLinear(true))
}

// quantizeLinear maps floats to 8-bit integers as ONNX Runtime does:
// y = saturate(round(x / scale) + zero_point), rounding halves to even,
// the range that of zero_point's type (uint8 when it is absent).
//
// Gradients are the straight-through estimate: dx = dy / scale where the
// value was representable, 0 where it saturated. With DequantizeLinear's
// dx = dy·scale, a quantize-dequantize pair passes the gradient unchanged
// inside the range and stops it outside. scale and zero_point get none.
type quantizeLinear struct{ quantAxis }

func newQuantizeLinear(perAxis bool) constructor {
	return func(n *Node) (Op, error) {
		qa, err := newQuantAxis(n, perAxis)
		if err != nil {
			return nil, err
		}
		return &quantizeLinear{qa}, nil
	}
}

// quantAxis is the axis attribute QuantizeLinear and DequantizeLinear
// share: per tensor only (opset 10) or per slice along axis too (13).
type quantAxis struct {
	axis    int64
	perAxis bool
}

func newQuantAxis(n *Node, perAxis bool) (quantAxis, error) {
	axis, err := n.Int("axis", 1)
	if err != nil {
		return quantAxis{}, err
	}
	if !perAxis && n.Has("axis") {
		return quantAxis{}, fmt.Errorf("%s: axis needs opset 13", n.OpType)
	}
	return quantAxis{axis: axis, perAxis: perAxis}, nil
}

// quantParams is a scale and zero point per tensor or per slice along an
// axis: element i of the tensor uses index (i / inner) % d.
type quantParams struct {
	scale    []float32
	zero     []int64
	d, inner int
	lo, hi   int64                     // the zero point type's range
	elem     onnx.TensorProto_DataType // that type
}

func (q *quantParams) at(i int) int {
	if q.d == 1 {
		return 0
	}
	return (i / q.inner) % q.d
}

// readQuantParams reads scale (input si) and zero point (input zi, may be
// absent) for a tensor of shape: one of each, or (perAxis) one per slice
// along axis. With wide, the zero point may be an int32 (a bias's).
func readQuantParams(in []*Tensor, si, zi int, shape []int, axis int64, perAxis, wide bool) (*quantParams, error) {
	scale, err := floatIn(in, si, "scale")
	if err != nil {
		return nil, err
	}
	// A copy: a computed scale dies at its last forward reader, and the
	// backward pass reads q after that.
	q := &quantParams{scale: slices.Clone(scale.Data), d: 1, inner: 1, lo: 0, hi: 255, elem: onnx.TensorProto_UINT8}
	n := scale.Len()
	if n != 1 {
		if !perAxis || scale.Rank() != 1 {
			return nil, fmt.Errorf("scale %v must be a scalar (per axis: a vector, from opset 13)", scale)
		}
		a, err := normAxis(axis, len(shape))
		if err != nil {
			return nil, err
		}
		if shape[a] != n {
			return nil, fmt.Errorf("scale %v does not match axis %d of %s", scale, a, ShapeString(shape))
		}
		q.d, q.inner = n, Numel(shape[a+1:])
	}
	for _, v := range scale.Data {
		if !(v > 0) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("scale %g must be positive and finite", v)
		}
	}
	q.zero = make([]int64, n)
	if zi < len(in) && in[zi] != nil {
		z := in[zi]
		if !z.IsInt() || z.Len() != n {
			return nil, fmt.Errorf("zero point %v, want %d integers like scale", z, n)
		}
		copy(q.zero, z.Ints)
		if wide && z.Elem == onnx.TensorProto_INT32 {
			return q, nil
		}
		if err := q.setType(z); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// setType takes the range of zero point z's type: int8 where it says so
// (or, its type unknown, where it holds a negative value), else uint8.
func (q *quantParams) setType(z *Tensor) error {
	elem := z.Elem
	if elem == 0 {
		elem = onnx.TensorProto_UINT8
		for _, v := range z.Ints {
			if v < 0 {
				elem = onnx.TensorProto_INT8
			}
		}
	}
	switch elem {
	case onnx.TensorProto_UINT8:
	case onnx.TensorProto_INT8:
		q.lo, q.hi, q.elem = -128, 127, elem
	default:
		return fmt.Errorf("%w: zero point of type %v (8-bit integers only)", ErrUnsupported, elem)
	}
	for _, v := range z.Ints {
		if v < q.lo || v > q.hi {
			return fmt.Errorf("zero point %d outside the range of %v", v, q.elem)
		}
	}
	return nil
}

// quantize returns round(v) + zero saturated to [lo, hi], and whether it
// was in range.
func (q *quantParams) quantize(v float32, zero int64) (int64, bool) {
	r := math.RoundToEven(float64(v)) + float64(zero)
	switch {
	case r < float64(q.lo):
		return q.lo, false
	case r > float64(q.hi):
		return q.hi, false
	case r != r:
		return zero, false
	}
	return int64(r), true
}

type quantSaved struct {
	q    *quantParams
	pass []bool // representable, so the gradient passes
}

func (o *quantizeLinear) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	x, err := floatIn(in, 0, "x")
	if err != nil {
		return nil, err
	}
	q, err := readQuantParams(in, 1, 2, x.Shape, o.axis, o.perAxis, false)
	if err != nil {
		return nil, err
	}
	y := NewInts(append([]int(nil), x.Shape...), make([]int64, x.Len()))
	y.Elem = q.elem
	var pass []bool
	if s.Grad {
		pass = make([]bool, x.Len())
	}
	forChunks(x.Len(), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			k := q.at(i)
			ok := false
			y.Ints[i], ok = q.quantize(x.Data[i]/q.scale[k], q.zero[k])
			if pass != nil {
				pass[i] = ok
			}
		}
	})
	s.SetAux(quantSaved{q: q, pass: pass})
	return []*Tensor{y}, nil
}

func (o *quantizeLinear) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	a, ok := s.Aux().(quantSaved)
	if !ok {
		return nil, fmt.Errorf("QuantizeLinear: backward without a forward pass")
	}
	dx := NewFloat(append([]int(nil), dy[0].Shape...)...)
	for i, g := range dy[0].Data {
		if a.pass[i] {
			dx.Data[i] = g / a.q.scale[a.q.at(i)]
		}
	}
	return []*Tensor{dx, nil, nil}, nil
}

// zeroPoint reads the optional zero point input i of an integer operand
// of the given shape: one value, or one per slice along axis (a row of A,
// a column of B, an output channel of W).
func zeroPoint(in []*Tensor, i int, shape []int, axis int) (zp []int64, d, inner int, err error) {
	if i >= len(in) || in[i] == nil {
		return []int64{0}, 1, 1, nil
	}
	z := in[i]
	if !z.IsInt() {
		return nil, 0, 0, fmt.Errorf("zero point %v holds floats, want integers", z)
	}
	if z.Len() == 1 {
		return z.Ints, 1, 1, nil
	}
	if z.Rank() != 1 || axis < 0 || axis >= len(shape) || shape[axis] != z.Len() {
		return nil, 0, 0, fmt.Errorf("zero point %v, want one value or one per slice of axis %d of %s", z, axis, ShapeString(shape))
	}
	return z.Ints, z.Len(), Numel(shape[axis+1:]), nil
}

// centered returns the integers of x less their zero points, as floats:
// what the integer operators multiply, exactly, while sums stay below 2²⁴.
func centered(x *Tensor, zp []int64, d, inner int) *Tensor {
	y := NewFloat(append([]int(nil), x.Shape...)...)
	for i, v := range x.Ints {
		k := 0
		if d > 1 {
			k = (i / inner) % d
		}
		y.Data[i] = float32(v - zp[k])
	}
	return y
}

// intOperand checks that input i holds integers.
func intOperand(in []*Tensor, i int, what string) (*Tensor, error) {
	if i >= len(in) || in[i] == nil {
		return nil, fmt.Errorf("input %d (%s) is missing", i, what)
	}
	if !in[i].IsInt() {
		return nil, fmt.Errorf("input %d (%s) %v holds floats, want integers", i, what, in[i])
	}
	return in[i], nil
}

// toInt32 returns the integer sums of acc (exact integers held as floats)
// as an int32 tensor.
func toInt32(acc *Tensor) *Tensor {
	y := NewInts(append([]int(nil), acc.Shape...), make([]int64, acc.Len()))
	y.Elem = onnx.TensorProto_INT32
	for i, v := range acc.Data {
		y.Ints[i] = int64(math.RoundToEven(float64(v)))
	}
	return y
}

// quantized reports whether t holds quantized values: 8-bit integers or
// the int32 sums of the integer operators. Cast passes gradients straight
// through those to float (the MatMulInteger → Cast → Mul pattern of
// dynamically quantized models), but not through shape arithmetic.
func quantized(t *Tensor) bool {
	switch t.Elem {
	case onnx.TensorProto_INT8, onnx.TensorProto_UINT8, onnx.TensorProto_INT32:
		return t.IsInt()
	}
	return false
}

// StraightThrough reports whether gradients through op type are the
// straight-through estimates of quantization rather than derivatives: an
// attack on a model with such operators follows the float model the
// quantized one approximates.
func StraightThrough(opType string) bool {
	switch opType {
	case "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
		"QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger":
		return true
	}
	return false
}
