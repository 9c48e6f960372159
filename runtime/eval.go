package runtime

import (
	"context"
	"fmt"
	"io"

	"github.com/onnxguard/onnxguard/dataset"
)

// Config says how to feed a model.
type Config struct {
	Pre   dataset.Preprocess // pixel space → model input
	Batch int                // samples per engine call; 0 means 64
	// Progress, when set, is called after every batch with the samples
	// done and the total.
	Progress func(done, total int)
}

// EvalResult is a top-1 accuracy measurement.
type EvalResult struct {
	Samples  int     `json:"samples"`
	Correct  int     `json:"correct"`
	Accuracy float64 `json:"accuracy"`
	// PerClass holds accuracy per label; classes absent from the data are
	// reported with zero samples.
	PerClass []ClassAccuracy `json:"per_class"`
}

// ClassAccuracy is the accuracy on one label.
type ClassAccuracy struct {
	Class    int     `json:"class"`
	Samples  int     `json:"samples"`
	Correct  int     `json:"correct"`
	Accuracy float64 `json:"accuracy"`
}

// Evaluate runs every sample of src through e and counts top-1 hits.
func Evaluate(ctx context.Context, e Engine, src dataset.Source, cfg Config) (*EvalResult, error) {
	if !src.Labelled() {
		return nil, fmt.Errorf("%w, so accuracy cannot be measured", dataset.ErrNoLabels)
	}
	r := &EvalResult{}
	var hits, counts []int
	err := batches(ctx, e, src, cfg, func(b *dataset.Batch, out []float32, k int) error {
		for i := 0; i < b.N; i++ {
			label := b.Labels[i]
			if label < 0 || label >= k {
				return fmt.Errorf("sample %d has label %d but the model scores %d classes", b.Start+i, label, k)
			}
			for len(counts) < k {
				counts, hits = append(counts, 0), append(hits, 0)
			}
			counts[label]++
			if Argmax(out[i*k:(i+1)*k]) == label {
				hits[label]++
				r.Correct++
			}
			r.Samples++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r.Samples > 0 {
		r.Accuracy = float64(r.Correct) / float64(r.Samples)
	}
	for c := range counts {
		ca := ClassAccuracy{Class: c, Samples: counts[c], Correct: hits[c]}
		if ca.Samples > 0 {
			ca.Accuracy = float64(ca.Correct) / float64(ca.Samples)
		}
		r.PerClass = append(r.PerClass, ca)
	}
	return r, nil
}

// Predict returns the model's first output for every sample, as an N×K
// row-major matrix, and K.
func Predict(ctx context.Context, e Engine, src dataset.Source, cfg Config) ([]float32, int, error) {
	var all []float32
	width := 0
	err := batches(ctx, e, src, cfg, func(b *dataset.Batch, out []float32, k int) error {
		all = append(all, out[:b.N*k]...)
		width = k
		return nil
	})
	return all, width, err
}

// batches streams src through e, handing each batch's scores (N×k) to use.
func batches(ctx context.Context, e Engine, src dataset.Source, cfg Config, use func(b *dataset.Batch, out []float32, k int) error) error {
	size := cfg.Batch
	if size <= 0 {
		size = 64
	}
	c, h, w := src.Dims()
	if err := cfg.Pre.Validate(c); err != nil {
		return err
	}
	var b dataset.Batch
	var in, out []float32
	done, total := 0, src.Len()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := src.Next(&b, size)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		in = cfg.Pre.Apply(in, b.X, c, h*w)
		var shape []int64
		out, shape, err = e.Run(out, in, b.N)
		if err != nil {
			return fmt.Errorf("samples %d to %d: %w", b.Start, b.Start+b.N-1, err)
		}
		if len(shape) == 0 || shape[0] != int64(b.N) || len(out)%b.N != 0 {
			return fmt.Errorf("the model's output has shape %v for a batch of %d; want the batch first", shape, b.N)
		}
		if err := use(&b, out, len(out)/b.N); err != nil {
			return err
		}
		done += b.N
		if cfg.Progress != nil {
			cfg.Progress(done, total)
		}
	}
}

// Argmax returns the index of the largest score, the first on ties.
func Argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
