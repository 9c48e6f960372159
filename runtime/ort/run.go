//go:build cgo

package ort

import (
	"fmt"
	"slices"

	"github.com/onnxguard/onnxguard/runtime"
	ortgo "github.com/yalue/onnxruntime_go"
)

// Run computes the first output, the logits, for n samples. x holds them
// one after another, preprocessed as the model expects (NCHW float32 for an
// image model), n×C×H×W values in all. The logits are written to dst if it
// has the capacity, else to a new slice, and returned with their shape,
// [n, …] (usually [n, classes]). dst must not overlap x.
//
// A model with a dynamic batch axis runs all n at once. One exported with a
// fixed batch B runs in chunks of B, the last padded with zeros and the
// padding's outputs dropped.
func (s *Session) Run(dst, x []float32, n int) (out []float32, outShape []int64, err error) {
	if n <= 0 {
		return nil, nil, fmt.Errorf("ort: Run: n = %d; want at least one sample", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sess == nil {
		return nil, nil, fmt.Errorf("ort: Run: the session for %s is closed", s.name)
	}
	if len(x)/s.sampleLen < n || len(x) != n*s.sampleLen {
		return nil, nil, fmt.Errorf("ort: Run: x has %d values, but %d samples of shape %v (input %q) need %d×%d",
			len(x), n, s.sample, s.inputs[0].Name, n, s.sampleLen)
	}
	chunk := n
	if s.batch > 0 {
		chunk = s.batch
	}
	if err := s.prepare(chunk); err != nil {
		return nil, nil, err
	}
	out = dst[:0]
	if s.out != nil {
		if want := n * (int(s.out.GetShape().FlattenedSize()) / chunk); cap(dst) < want {
			out = make([]float32, 0, want)
		}
	}
	var sampleShape []int64
	// The batches are written straight into the input tensor, which
	// prepare sized for exactly one chunk, so Batches never replaces it.
	_, err = runtime.Batches(s.in.GetData(), n, chunk, s.sampleLen, func(dst []float32, first, k int) {
		copy(dst, x[first*s.sampleLen:(first+k)*s.sampleLen])
	}, func(_ []float32, _, k int) error {
		data, shape, err := s.runChunk()
		if err != nil {
			return err
		}
		per, ss, err := perSample(shape, len(data), chunk)
		if err != nil {
			return fmt.Errorf("ort: Run: %s: first output %q %w", s.name, s.outputs[0].Name, err)
		}
		if sampleShape == nil {
			sampleShape = ss
		} else if !slices.Equal(ss, sampleShape) {
			return fmt.Errorf("ort: Run: %s: first output %q changed shape between chunks, from %v to %v per sample", s.name, s.outputs[0].Name, sampleShape, ss)
		}
		out = append(out, data[:k*per]...)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, append([]int64{int64(n)}, sampleShape...), nil
}

// perSample splits one run's output of the given shape and size into samples
// of a batch of chunk.
func perSample(shape []int64, size, chunk int) (int, []int64, error) {
	switch {
	case len(shape) >= 1 && shape[0] == int64(chunk):
		return size / chunk, slices.Clone(shape[1:]), nil
	case chunk == 1:
		// Some fixed-batch-1 exports drop the batch axis from the output.
		return size, slices.Clone(shape), nil
	}
	return 0, nil, fmt.Errorf("has shape %v for a batch of %d; onnxguard needs its first axis to be the batch", shape, chunk)
}

// prepare makes the input tensor, and the output tensor when the model
// declares its shape, for a batch of chunk, keeping those of the last call if
// the size is the same.
func (s *Session) prepare(chunk int) error {
	if s.in != nil && s.chunk == chunk {
		return nil
	}
	s.dropTensors()
	in, err := ortgo.NewEmptyTensor[float32](ortgo.NewShape(append([]int64{int64(chunk)}, s.sample...)...))
	if err != nil {
		return fmt.Errorf("ort: Run: allocating the input for a batch of %d: %w", chunk, err)
	}
	s.in, s.chunk = in, chunk
	if shape, ok := s.declaredOutput(chunk); ok && !s.ortAlloc {
		out, err := ortgo.NewEmptyTensor[float32](shape)
		if err != nil {
			return fmt.Errorf("ort: Run: allocating the output for a batch of %d: %w", chunk, err)
		}
		s.out = out
	}
	return nil
}

// declaredOutput returns the first output's shape for a batch of chunk when
// the model declares all of it.
func (s *Session) declaredOutput(chunk int) (ortgo.Shape, bool) {
	if len(s.logits) == 0 || (s.logits[0] != -1 && s.logits[0] != int64(chunk)) {
		return nil, false
	}
	shape := ortgo.Shape{int64(chunk)}
	for _, d := range s.logits[1:] {
		if d <= 0 {
			return nil, false
		}
		shape = append(shape, d)
	}
	return shape, true
}

// runChunk runs the session on s.in and returns the first output. The data
// is Go memory, valid until the next call.
func (s *Session) runChunk() ([]float32, []int64, error) {
	if s.out != nil {
		err := s.sess.Run([]ortgo.Value{s.in}, []ortgo.Value{s.out})
		if err == nil {
			return s.out.GetData(), s.out.GetShape(), nil
		}
		// The model's declared output shape may be wrong; if ONNX Runtime's
		// own allocation works, use it from now on.
		s.out.Destroy()
		s.out, s.ortAlloc = nil, true
	}
	outs := []ortgo.Value{nil}
	if err := s.sess.Run([]ortgo.Value{s.in}, outs); err != nil {
		return nil, nil, fmt.Errorf("ort: running %s on a batch of %d: %w", s.name, s.chunk, err)
	}
	defer outs[0].Destroy()
	t, ok := outs[0].(*ortgo.Tensor[float32])
	if !ok {
		return nil, nil, fmt.Errorf("ort: running %s: first output %q came back as %T, not a float32 tensor", s.name, s.outputs[0].Name, outs[0])
	}
	// Destroy releases ONNX Runtime's value, not this Go slice.
	return t.GetData(), t.GetShape(), nil
}

func (s *Session) dropTensors() {
	if s.in != nil {
		s.in.Destroy()
		s.in = nil
	}
	if s.out != nil {
		s.out.Destroy()
		s.out = nil
	}
	s.chunk = 0
}
