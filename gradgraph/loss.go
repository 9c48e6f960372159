package gradgraph

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/onnxguard/onnxguard/onnx"
)

// loss appends the mean softmax cross-entropy of logits (N×K, trailing unit
// axes allowed) against labels and returns the loss and d loss / d logits,
// as interp.SoftmaxCrossEntropy defines them: loss = mean over samples of
// logsumexp(z) − z[y], gradient (softmax(z) − onehot(y)) / N.
func (b *builder) loss(logits, labels string) (loss, dlogits string, err error) {
	s, err := b.shape(logits)
	if err != nil {
		return "", "", err
	}
	k := int64(1)
	for _, d := range s[1:] {
		if d < 0 {
			return "", "", fmt.Errorf("%w: logits %q have shape %v; the loss needs N×K with K fixed", ErrUnsupported, logits, s)
		}
		k *= int64(d)
	}
	if len(s) == 0 {
		return "", "", fmt.Errorf("%w: logits %q are a scalar; the loss needs N×K", ErrUnsupported, logits)
	}
	// 0 keeps the batch axis, and its name for the shape inference.
	z := b.op("Reshape", []string{logits, b.int64s(0, k)})
	zero := &onnx.TensorProto{Dims: []int64{2}, DataType: proto.Int32(int32(onnx.TensorProto_FLOAT)), FloatData: []float32{0, 1}}
	values := b.fresh("onehot_values")
	zero.Name = proto.String(values)
	b.inits = append(b.inits, zero)
	onehot := b.op("OneHot", []string{labels, b.int64s(k), values}, aInt("axis", -1))
	picked := b.op("ReduceSum", []string{b.op("Mul", []string{b.op("LogSoftmax", []string{z}, aInt("axis", 1)), onehot}), b.int64s(1)},
		aInt("keepdims", 0))
	loss = b.op("Neg", []string{b.op("ReduceMean", []string{picked}, aInt("keepdims", 0))})
	n := b.op("Cast", []string{b.op("Shape", []string{z}, aInt("start", 0), aInt("end", 1))},
		aInt("to", int64(onnx.TensorProto_FLOAT)))
	dz := b.op("Div", []string{b.op("Sub", []string{b.op("Softmax", []string{z}, aInt("axis", 1)), onehot}), n})
	if len(s) == 2 {
		return loss, dz, nil
	}
	return loss, b.reshapeBatch(dz, []int{s[0], int(k)}, logits), nil
}
