package dataset

import "fmt"

// memorySource serves samples held in memory.
type memorySource struct {
	frame
	x      []float32
	labels []int
}

// FromMemory returns a Source over n samples of c×h×w pixels in x (NCHW,
// in [0,1]) with their labels (nil for none). The slices are not copied.
func FromMemory(x []float32, labels []int, n, c, h, w int) (Source, error) {
	if n < 0 || c < 1 || h < 1 || w < 1 || len(x) != n*c*h*w || labels != nil && len(labels) != n {
		return nil, fmt.Errorf("dataset: %d values and %d labels do not make %d samples of %d×%d×%d", len(x), len(labels), n, c, h, w)
	}
	s := &memorySource{x: x, labels: labels}
	s.c, s.h, s.w, s.labelled = c, h, w, labels != nil
	s.span = newSpan(n, &Options{})
	return s, nil
}

func (s *memorySource) Next(dst *Batch, max int) error {
	first, n, err := s.begin(dst, max)
	if err != nil {
		return err
	}
	per := s.c * s.h * s.w
	copy(dst.X, s.x[first*per:(first+n)*per])
	if s.labelled {
		copy(dst.Labels, s.labels[first:first+n])
	}
	return nil
}

func (s *memorySource) Close() error {
	s.closed = true
	return nil
}
